#include "jcorr/baseline/unit_file.h"

#include <algorithm>
#include <array>
#include <optional>

#include "jcorr/baseline/codes.h"

namespace jcorr::baseline {
namespace {

// systemd's WHITESPACE.
constexpr std::string_view kBlanks = " \t\n\r";
constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string_view strip(std::string_view s) {
  const auto first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kBlanks);
  return s.substr(first, last - first + 1);
}

// systemd's string_is_safe(): no control characters, quotes or backslashes.
bool is_safe(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u > 0 && u < 0x20) || c == '"' || c == '\'' || c == '\\' || u == 0x7f;
  });
}

// Splits text into physical lines the way systemd's read_line() does: a line ends at
// LF, CR or NUL, and one CR and one LF in a row (either order) form a single ending.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '\n' && c != '\r' && c != '\0') {
      ++i;
      continue;
    }
    lines.push_back(text.substr(start, i - start));
    ++i;
    if (c != '\0' && i < text.size() && (text[i] == '\n' || text[i] == '\r') && text[i] != c) ++i;
    start = i;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

class Parser {
 public:
  Parser(std::span<const std::string_view> sections, UnitFile& out) : sections_(sections), out_(out) {}

  // Handles one logical line; returns false when systemd would stop reading the file.
  bool parse_line(std::string_view raw, std::size_t line) {
    const std::string_view l = strip(raw);
    if (l.empty()) return true;
    if (!is_valid_utf8(l)) {
      warn(line, codes::kInvalidUtf8, "line is not valid UTF-8; systemd ignores it");
      return true;
    }
    if (l.front() == '[') {
      if (l.back() != ']' || l.size() < 2) {
        error(line, codes::kSectionInvalid, "invalid section header '" + std::string(l) + "'");
        return false;
      }
      const std::string_view name = l.substr(1, l.size() - 2);
      if (!is_safe(name)) {
        error(line, codes::kSectionBadCharacters, "bad characters in section header '" + std::string(l) + "'");
        return false;
      }
      if (!sections_.empty() && std::find(sections_.begin(), sections_.end(), name) == sections_.end()) {
        if (!name.starts_with("X-"))
          warn(line, codes::kSectionUnknown, "unknown section '" + std::string(name) + "'; systemd ignores it");
        section_.reset();
        section_ignored_ = true;
      } else {
        section_ = std::string(name);
        section_ignored_ = false;
      }
      return true;
    }
    if (!section_) {
      if (!section_ignored_)
        warn(line, codes::kAssignmentOutsideSection, "assignment outside of a section; systemd ignores it");
      return true;
    }
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) {
      warn(line, codes::kAssignmentMissingEquals, "missing '='; systemd ignores the line");
      return true;
    }
    if (eq == 0) {
      warn(line, codes::kAssignmentMissingKey, "missing key name before '='; systemd ignores the line");
      return true;
    }
    out_.assignments.push_back(
        Assignment{*section_, std::string(strip(l.substr(0, eq))), std::string(strip(l.substr(eq + 1))), line});
    return true;
  }

 private:
  void warn(std::size_t line, std::string_view code, std::string message) {
    out_.diagnostics.push_back(Diagnostic{{}, line, Severity::kWarning, std::string(code), std::move(message)});
  }
  void error(std::size_t line, std::string_view code, std::string message) {
    out_.diagnostics.push_back(Diagnostic{{}, line, Severity::kError, std::string(code), std::move(message)});
    out_.loadable = false;
  }

  std::span<const std::string_view> sections_;
  UnitFile& out_;
  std::optional<std::string> section_;
  bool section_ignored_ = false;
};

}  // namespace

UnitFile parse_unit_file(std::string_view text, std::span<const std::string_view> known_sections,
                         std::size_t max_size) {
  UnitFile out;
  if (text.size() > max_size) {
    out.diagnostics.push_back(Diagnostic{{}, 0, Severity::kError, std::string(codes::kUnitTooLarge),
                                         "file has " + std::to_string(text.size()) + " bytes, more than the " +
                                             std::to_string(max_size) + " accepted"});
    out.loadable = false;
    return out;
  }
  Parser parser(known_sections, out);
  std::optional<std::string> continuation;
  std::size_t continuation_line = 0;
  bool bom_seen = false;
  std::size_t line_no = 0;
  for (std::string_view line : split_lines(text)) {
    ++line_no;
    // Comments are recognised before continuation lines are joined, as systemd does:
    // a comment inside a continued value is dropped and the value goes on.
    const auto first = line.find_first_not_of(kBlanks);
    if (first != std::string_view::npos && (line[first] == '#' || line[first] == ';')) continue;
    if (!bom_seen && line.starts_with(kBom)) {
      line.remove_prefix(kBom.size());
      bom_seen = true;
    }
    std::string joined;
    if (continuation) {
      continuation->append(line);
      joined = std::move(*continuation);
      continuation.reset();
    } else {
      joined = std::string(line);
      continuation_line = line_no;
    }
    // A trailing backslash continues the line unless it is itself escaped; escapes are
    // counted over the whole joined text, like systemd.
    bool escaped = false;
    for (const char c : joined) escaped = escaped ? false : c == '\\';
    if (escaped) {
      joined.back() = ' ';
      continuation = std::move(joined);
      continue;
    }
    if (!parser.parse_line(joined, continuation_line)) return out;
  }
  if (continuation) parser.parse_line(*continuation, continuation_line);
  return out;
}

std::span<const std::string_view> unit_sections_for(std::string_view unit_name) {
  static constexpr std::array<std::string_view, 2> kBase = {"Unit", "Install"};
  static constexpr std::array<std::string_view, 3> kService = {"Unit", "Install", "Service"};
  static constexpr std::array<std::string_view, 3> kTimer = {"Unit", "Install", "Timer"};
  static constexpr std::array<std::string_view, 3> kSocket = {"Unit", "Install", "Socket"};
  static constexpr std::array<std::string_view, 3> kPath = {"Unit", "Install", "Path"};
  static constexpr std::array<std::string_view, 3> kMount = {"Unit", "Install", "Mount"};
  static constexpr std::array<std::string_view, 3> kAutomount = {"Unit", "Install", "Automount"};
  static constexpr std::array<std::string_view, 3> kSwap = {"Unit", "Install", "Swap"};
  static constexpr std::array<std::string_view, 3> kSlice = {"Unit", "Install", "Slice"};
  static constexpr std::array<std::string_view, 3> kScope = {"Unit", "Install", "Scope"};
  const auto dot = unit_name.rfind('.');
  const std::string_view type = dot == std::string_view::npos ? std::string_view{} : unit_name.substr(dot + 1);
  if (type == "service") return kService;
  if (type == "timer") return kTimer;
  if (type == "socket") return kSocket;
  if (type == "path") return kPath;
  if (type == "mount") return kMount;
  if (type == "automount") return kAutomount;
  if (type == "swap") return kSwap;
  if (type == "slice") return kSlice;
  if (type == "scope") return kScope;
  return kBase;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0u) == 0xC0u) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0u) == 0xE0u) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8u) == 0xF0u) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr std::array<std::uint32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace jcorr::baseline
