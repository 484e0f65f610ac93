#include "json_locate.h"

#include <string>

namespace jcorr::core {
namespace {

struct Walker {
  std::string_view t;
  std::size_t i = 0;
  bool ok = true;

  void ws() {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  }
  // Reads a string starting at '"' and returns its decoded-enough content (escapes for
  // '/' and '~' and simple ones are kept literal, which is all member names need here).
  std::string str() {
    std::string out;
    if (i >= t.size() || t[i] != '"') { ok = false; return out; }
    ++i;
    while (i < t.size() && t[i] != '"') {
      if (t[i] == '\\' && i + 1 < t.size()) {
        const char e = t[i + 1];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        i += 2;
        if (e == 'u') i += 4;
        continue;
      }
      out.push_back(t[i++]);
    }
    ++i;
    return out;
  }
  void skip_value(int depth = 0) {
    ws();
    if (i >= t.size() || depth > 512) { ok = false; return; }
    const char c = t[i];
    if (c == '"') { str(); return; }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i;
      ws();
      if (i < t.size() && t[i] == close) { ++i; return; }
      while (ok && i < t.size()) {
        if (c == '{') { ws(); str(); ws(); if (i < t.size() && t[i] == ':') ++i; }
        skip_value(depth + 1);
        ws();
        if (i < t.size() && t[i] == ',') { ++i; continue; }
        if (i < t.size() && t[i] == close) { ++i; return; }
        ok = false;
      }
      return;
    }
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' && t[i] != '\r' && t[i] != '\t') ++i;
  }
  // Moves to the start of member `key` (object) or element `key` (array) of the value at i.
  bool enter(const std::string& key) {
    ws();
    if (i >= t.size()) return false;
    if (t[i] == '{') {
      ++i;
      while (ok && i < t.size()) {
        ws();
        if (i < t.size() && t[i] == '}') return false;
        const std::size_t name_at = i;
        const std::string name = str();
        ws();
        if (i < t.size() && t[i] == ':') ++i;
        ws();
        if (name == key) return true;
        (void)name_at;
        skip_value();
        ws();
        if (i < t.size() && t[i] == ',') ++i; else return false;
      }
      return false;
    }
    if (t[i] == '[') {
      std::size_t want = 0;
      for (char ch : key) {
        if (ch < '0' || ch > '9') return false;
        want = want * 10 + static_cast<std::size_t>(ch - '0');
      }
      ++i;
      for (std::size_t n = 0; ok && i < t.size(); ++n) {
        ws();
        if (i < t.size() && t[i] == ']') return false;
        if (n == want) return true;
        skip_value();
        ws();
        if (i < t.size() && t[i] == ',') ++i; else return false;
      }
    }
    return false;
  }
};

std::string unescape_token(std::string_view tok) {
  std::string out;
  for (std::size_t k = 0; k < tok.size(); ++k) {
    if (tok[k] == '~' && k + 1 < tok.size()) {
      out.push_back(tok[k + 1] == '1' ? '/' : '~');
      ++k;
    } else {
      out.push_back(tok[k]);
    }
  }
  return out;
}

}  // namespace

std::pair<std::uint32_t, std::uint32_t> line_column(std::string_view text, std::size_t offset) {
  std::uint32_t line = 1, col = 1;
  for (std::size_t k = 0; k < offset && k < text.size(); ++k) {
    if (text[k] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return {line, col};
}

std::pair<std::uint32_t, std::uint32_t> locate_json_pointer(std::string_view text, std::string_view pointer) {
  Walker w{text};
  w.ws();
  if (w.i >= text.size()) return {0, 0};
  std::string_view rest = pointer;
  while (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    const std::string tok = unescape_token(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    const std::size_t before = w.i;
    if (!w.enter(tok)) {
      w.i = before;
      break;
    }
  }
  w.ws();
  return line_column(text, w.i);
}

}  // namespace jcorr::core
