#include "jcorr/sinks/webhook_template.h"

#include <algorithm>
#include <array>

namespace jcorr::sinks {

using nlohmann::json;

namespace {

// Placeholders whose path has one part.
constexpr std::array<std::string_view, 15> kScalarFields = {
    "id",   "rule",    "title", "severity",  "summary",        "attack",    "tags",     "first",
    "last", "time",    "time_us", "hostname", "machine_id", "evidence_count", "detection"};
// Placeholders NAME.SUB: host has fixed members, values and group any.
constexpr std::array<std::string_view, 2> kHostFields = {"hostname", "machine_id"};

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-'; }

template <std::size_t N>
bool in(const std::array<std::string_view, N>& names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

std::string known_fields() {
  std::string s;
  for (auto f : kScalarFields) s += std::string(s.empty() ? "" : ", ") + std::string(f);
  return s + ", host.hostname, host.machine_id, values.NAME, group.NAME";
}

std::string to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return v.get_ref<const std::string&>();
    case json::value_t::null:
    case json::value_t::discarded: return "";
    case json::value_t::array: {
      std::string s;
      for (const auto& e : v) {
        if (!s.empty()) s += ", ";
        s += to_text(e);
      }
      return s;
    }
    default: return v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

const json* member(const json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

std::string json_escape(std::string_view text) {
  const std::string quoted = json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::expected<WebhookTemplate, TemplateError> WebhookTemplate::compile(std::string_view text) {
  WebhookTemplate t;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '{') {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || !name_start(text[i + 1])) {
      literal.push_back(c);  // JSON's own braces: "{", "{\"", "{ }"
      ++i;
      continue;
    }
    const std::size_t start = i;
    std::vector<std::string> path(1);
    std::size_t j = i + 1;
    for (; j < text.size() && text[j] != '}'; ++j) {
      const char d = text[j];
      if (d == '.') {
        if (path.back().empty()) return std::unexpected(TemplateError{j, "empty name in placeholder"});
        path.emplace_back();
      } else if (name_char(d) && !(path.back().empty() && !name_start(d))) {
        path.back().push_back(d);
      } else {
        return std::unexpected(TemplateError{
            j, "unexpected character '" + std::string(1, d) + "' in placeholder (names are letters, digits, _ and -)"});
      }
    }
    if (j >= text.size()) return std::unexpected(TemplateError{start, "placeholder is not closed by '}'"});
    if (path.back().empty()) return std::unexpected(TemplateError{j, "empty name in placeholder"});
    const std::string name = std::string(text.substr(start + 1, j - start - 1));
    bool ok = false;
    if (path.size() == 1) ok = in(kScalarFields, path[0]);
    else if (path.size() == 2 && path[0] == "host") ok = in(kHostFields, path[1]);
    else if (path.size() == 2 && (path[0] == "values" || path[0] == "group")) ok = true;
    if (!ok) {
      std::string hint = path.size() == 1 && (path[0] == "values" || path[0] == "group" || path[0] == "host")
                             ? " (name one member, as in {" + path[0] + ".NAME})"
                             : "";
      return std::unexpected(
          TemplateError{start, "unknown field {" + name + "}" + hint + "; known: " + known_fields()});
    }
    if (!literal.empty()) t.parts_.push_back(Part{std::move(literal), {}, false});
    literal.clear();
    const bool raw = path.size() == 1 && path[0] == "detection";
    t.parts_.push_back(Part{"", std::move(path), raw});
    i = j + 1;
  }
  if (!literal.empty()) t.parts_.push_back(Part{std::move(literal), {}, false});
  return t;
}

std::string WebhookTemplate::render(const json& detection) const {
  std::string out;
  for (const auto& p : parts_) {
    if (p.path.empty()) {
      out += p.literal;
      continue;
    }
    if (p.raw) {
      out += detection.dump(-1, ' ', false, json::error_handler_t::replace);
      continue;
    }
    const std::string& head = p.path[0];
    std::string value;
    if (p.path.size() == 1 && (head == "hostname" || head == "machine_id")) {
      if (const json* host = member(detection, "host"))
        if (const json* v = member(*host, head)) value = to_text(*v);
    } else if (p.path.size() == 1 && head == "evidence_count") {
      std::size_t n = 0;
      if (const json* ev = member(detection, "evidence"); ev && ev->is_array()) n = ev->size();
      if (const json* om = member(detection, "evidence_omitted"); om && om->is_number_unsigned())
        n += om->get<std::size_t>();
      value = std::to_string(n);
    } else {
      const json* v = &detection;
      for (const auto& key : p.path) {
        v = member(*v, key);
        if (v == nullptr) break;
      }
      if (v != nullptr) value = to_text(*v);
    }
    out += json_escape(value);
  }
  return out;
}

}  // namespace jcorr::sinks
