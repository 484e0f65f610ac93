#include "jcorr/baseline/exec_command.h"

#include <algorithm>
#include <cstdint>

#include "jcorr/baseline/codes.h"

namespace jcorr::baseline {
namespace {

constexpr std::string_view kBlanks = " \t\n\r";
// Specifiers systemd defines for unit files (unit-printf.c and specifier.c).
constexpr std::string_view kSpecifiers = "aAbBcCdDEfgGhHiIjJlLmMnNopPqrRsStTuUvVwWyY%";

bool is_blank(char c) { return kBlanks.find(c) != std::string_view::npos; }

void skip_blanks(std::string_view& p) {
  const auto i = p.find_first_not_of(kBlanks);
  p.remove_prefix(i == std::string_view::npos ? p.size() : i);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::uint32_t cp, std::string& out) {
  auto byte = [&out](std::uint32_t v) { out.push_back(static_cast<char>(static_cast<unsigned char>(v))); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0u | (cp >> 6));
    byte(0x80u | (cp & 0x3Fu));
  } else if (cp < 0x10000) {
    byte(0xE0u | (cp >> 12));
    byte(0x80u | ((cp >> 6) & 0x3Fu));
    byte(0x80u | (cp & 0x3Fu));
  } else {
    byte(0xF0u | (cp >> 18));
    byte(0x80u | ((cp >> 12) & 0x3Fu));
    byte(0x80u | ((cp >> 6) & 0x3Fu));
    byte(0x80u | (cp & 0x3Fu));
  }
}

// Decodes the escape whose letter starts s (the text after a backslash), like systemd's
// cunescape_one() without its relaxed mode. Appends the result and returns the number
// of characters consumed, or 0 when the escape is invalid (including any NUL result).
std::size_t unescape_one(std::string_view s, std::string& out) {
  if (s.empty()) return 0;
  switch (s[0]) {
    case 'a': out.push_back('\a'); return 1;
    case 'b': out.push_back('\b'); return 1;
    case 'f': out.push_back('\f'); return 1;
    case 'n': out.push_back('\n'); return 1;
    case 'r': out.push_back('\r'); return 1;
    case 't': out.push_back('\t'); return 1;
    case 'v': out.push_back('\v'); return 1;
    case '\\': out.push_back('\\'); return 1;
    case '"': out.push_back('"'); return 1;
    case '\'': out.push_back('\''); return 1;
    case 's': out.push_back(' '); return 1;
    case 'x': {
      if (s.size() < 3) return 0;
      const int a = hex_value(s[1]);
      const int b = hex_value(s[2]);
      if (a < 0 || b < 0 || (a == 0 && b == 0)) return 0;
      out.push_back(static_cast<char>(static_cast<unsigned char>(a * 16 + b)));
      return 3;
    }
    case 'u':
    case 'U': {
      const std::size_t digits = s[0] == 'u' ? 4 : 8;
      if (s.size() < digits + 1) return 0;
      std::uint32_t cp = 0;
      for (std::size_t i = 1; i <= digits; ++i) {
        const int v = hex_value(s[i]);
        if (v < 0) return 0;
        cp = (cp << 4) | static_cast<std::uint32_t>(v);
      }
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
      append_utf8(cp, out);
      return digits + 1;
    }
    default:
      break;
  }
  if (s[0] >= '0' && s[0] <= '7') {
    if (s.size() < 3) return 0;
    int value = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      if (s[i] < '0' || s[i] > '7') return 0;
      value = value * 8 + (s[i] - '0');
    }
    if (value == 0 || value > 255) return 0;
    out.push_back(static_cast<char>(static_cast<unsigned char>(value)));
    return 3;
  }
  return 0;
}

enum class Extract { kWord, kEnd, kError };

// systemd's extract_first_word() with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE: reads one word
// from p and leaves p at the start of the next one.
Extract extract_word(std::string_view& p, std::string& word, std::string& why) {
  word.clear();
  skip_blanks(p);
  if (p.empty()) return Extract::kEnd;
  char quote = 0;
  std::size_t k = 0;
  for (;;) {
    if (k >= p.size()) {
      if (quote != 0) {
        why = std::string("unterminated ") + (quote == '"' ? "double" : "single") + " quote";
        return Extract::kError;
      }
      p = {};
      return Extract::kWord;
    }
    const char c = p[k];
    if (c == '\\') {
      const std::size_t n = unescape_one(p.substr(k + 1), word);
      if (n == 0) {
        why = k + 1 >= p.size() ? std::string("trailing backslash")
                                : "invalid escape sequence '\\" + std::string(1, p[k + 1]) + "'";
        return Extract::kError;
      }
      k += 1 + n;
      continue;
    }
    if (quote != 0) {
      if (c == quote)
        quote = 0;
      else
        word.push_back(c);
      ++k;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      ++k;
      continue;
    }
    if (is_blank(c)) {
      p.remove_prefix(k);
      skip_blanks(p);
      return Extract::kWord;
    }
    word.push_back(c);
    ++k;
  }
}

bool is_safe(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u > 0 && u < 0x20) || c == '"' || c == '\'' || c == '\\' || u == 0x7f;
  });
}

bool filename_is_valid(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos && s.size() <= 255;
}

bool path_is_valid(std::string_view s) {
  if (s.empty() || s.size() > 4096) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    if (end - start > 255) return false;
    start = end + 1;
  }
  return true;
}

// Returns the first unknown specifier character in word, or 0.
char unknown_specifier(std::string_view word) {
  for (std::size_t i = 0; i + 1 < word.size(); ++i) {
    if (word[i] != '%') continue;
    if (kSpecifiers.find(word[i + 1]) == std::string_view::npos) return word[i + 1];
    ++i;
  }
  return 0;
}

class ValueParser {
 public:
  ValueParser(std::string_view value, std::size_t line, ExecParse& out) : value_(value), line_(line), out_(out) {}

  void run() {
    std::string_view p = value_;
    std::string word;
    std::string why;
    bool semicolon = false;
    do {
      semicolon = false;
      const Extract first = extract_word(p, word, why);
      if (first == Extract::kEnd) return;
      if (first == Extract::kError) {
        // systemd drops the rest of the value with a warning, without failing the unit.
        warn(codes::kExecSyntax, why + "; systemd ignores: " + std::string(value_));
        return;
      }
      if (word == ";") {
        semicolon = true;
        continue;
      }
      ExecCommand command;
      std::size_t f = 0;
      for (; f < word.size(); ++f) {
        const char c = word[f];
        const bool privileged_flag = command.full_privileges || command.no_setuid || command.ambient_magic;
        if (c == '-' && !command.ignore_failure) {
          command.ignore_failure = true;
        } else if (c == '@' && !command.separate_argv0) {
          command.separate_argv0 = true;
        } else if (c == ':' && !command.no_env_expand) {
          command.no_env_expand = true;
        } else if (c == '+' && !privileged_flag) {
          command.full_privileges = true;
        } else if (c == '!' && !privileged_flag) {
          command.no_setuid = true;
        } else if (c == '!' && !command.full_privileges && !command.ambient_magic) {
          command.no_setuid = false;
          command.ambient_magic = true;
        } else {
          break;
        }
      }
      ignore_ = command.ignore_failure;
      command.path = word.substr(f);
      if (command.path.empty()) return fail(codes::kExecPathInvalid, "empty path in command line");
      check_specifiers(command.path);
      if (!is_safe(command.path))
        return fail(codes::kExecPathInvalid, "executable name contains special characters: " + command.path);
      if (command.path.back() == '/')
        return fail(codes::kExecPathInvalid, "executable path specifies a directory: " + command.path);
      // A specifier may expand to an absolute path ("%T/x" is "/tmp/x"), so such paths
      // cannot be judged before expansion.
      const bool has_specifier = command.path.find('%') != std::string::npos;
      if (!has_specifier &&
          !(command.path.front() == '/' ? path_is_valid(command.path) : filename_is_valid(command.path)))
        return fail(codes::kExecPathInvalid, "neither a valid executable name nor an absolute path: " + command.path);
      if (!command.separate_argv0) command.argv.push_back(command.path);
      while (!p.empty()) {
        if (p[0] == ';' && (p.size() == 1 || is_blank(p[1]))) {
          p.remove_prefix(1);
          skip_blanks(p);
          semicolon = true;
          break;
        }
        if (p.starts_with("\\;") && (p.size() == 2 || is_blank(p[2]))) {
          p.remove_prefix(2);
          skip_blanks(p);
          command.argv.emplace_back(";");
          continue;
        }
        const Extract r = extract_word(p, word, why);
        if (r == Extract::kEnd) break;
        if (r == Extract::kError) return fail(codes::kExecSyntax, why + ": " + std::string(value_));
        check_specifiers(word);
        command.argv.push_back(word);
      }
      if (command.argv.empty())
        return fail(codes::kExecPathInvalid, "empty executable name or zeroeth argument: " + std::string(value_));
      out_.commands.push_back(std::move(command));
    } while (semicolon);
  }

 private:
  void warn(std::string_view code, std::string message) {
    out_.diagnostics.push_back(Diagnostic{{}, line_, Severity::kWarning, std::string(code), std::move(message)});
  }
  // An error that fails the unit, unless the command carries "-".
  void fail(std::string_view code, std::string message) {
    if (ignore_) {
      warn(code, std::move(message) + " (ignored because of the '-' prefix)");
      return;
    }
    out_.diagnostics.push_back(Diagnostic{{}, line_, Severity::kError, std::string(code), std::move(message)});
    out_.refused = true;
  }
  void check_specifiers(std::string_view word) {
    if (const char c = unknown_specifier(word); c != 0)
      warn(codes::kExecSpecifierUnknown, "unknown specifier '%" + std::string(1, c) + "' in: " + std::string(word));
  }

  std::string_view value_;
  std::size_t line_;
  ExecParse& out_;
  bool ignore_ = false;
};

}  // namespace

std::string ExecCommand::prefix() const {
  std::string p;
  if (ignore_failure) p += '-';
  if (separate_argv0) p += '@';
  if (no_env_expand) p += ':';
  if (full_privileges) p += '+';
  if (ambient_magic)
    p += "!!";
  else if (no_setuid)
    p += '!';
  return p;
}

ExecParse parse_exec_value(std::string_view value, std::size_t line) {
  ExecParse out;
  ValueParser(value, line, out).run();
  return out;
}

bool split_exec_words(std::string_view text, std::vector<std::string>& words) {
  std::string word;
  std::string why;
  for (;;) {
    const Extract r = extract_word(text, word, why);
    if (r == Extract::kEnd) return true;
    if (r == Extract::kError) return false;
    words.push_back(word);
  }
}

}  // namespace jcorr::baseline
