// The unit-file parser: turns the text of a systemd unit file or drop-in into its
// ordered assignments, the way systemd's config_parse() reads it.
//
// It is a pure function over text (no files, no environment). The rules it follows are
// systemd's: lines end at LF, CR or CRLF; a line whose first non-blank character is '#'
// or ';' is a comment, even in the middle of a continued line (it is dropped and the
// continuation goes on); a line ending in an unescaped backslash continues on the next
// line, the backslash becoming a space, and an empty line ends a continuation; leading
// and trailing blanks (space, tab, CR, LF) of keys and values are stripped; a UTF-8 BOM
// is dropped; "[Section]" headers must close with ']'. Values are kept verbatim: no
// unquoting, no specifier expansion (see exec_command.h for Exec*= values). Repeated keys
// are all kept in order; what a repetition or an empty value means (append, override,
// reset) is the consumer's business, see UnitSettings.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/baseline/diagnostic.h"

namespace jcorr::baseline {

// One "key=value" line inside a known section.
struct Assignment {
  std::string section;  // e.g. "Service"
  std::string key;      // e.g. "ExecStart", blanks stripped
  std::string value;    // blanks stripped, continuations joined, otherwise verbatim
  std::size_t line = 0; // 1-based physical line where the assignment starts

  friend bool operator==(const Assignment&, const Assignment&) = default;
};

// The parsed form of one file.
struct UnitFile {
  std::vector<Assignment> assignments;   // in file order, only from known sections
  std::vector<Diagnostic> diagnostics;   // in line order; path left empty
  // False when systemd would refuse the file (an error diagnostic). Assignments read
  // before the fatal line are kept, so that a caller can still show them.
  bool loadable = true;
};

// The largest text parse_unit_file() accepts by default (systemd's LONG_LINE_MAX).
inline constexpr std::size_t kMaxUnitFileSize = 1u << 20;

// Parses text. known_sections lists the sections the unit type accepts ("Unit",
// "Install", "Timer", …); assignments in other sections are dropped with a warning
// (silently for "X-…" sections). An empty list accepts every section. Text longer than
// max_size is not parsed and yields a single kUnitTooLarge error. Never throws.
UnitFile parse_unit_file(std::string_view text, std::span<const std::string_view> known_sections = {},
                         std::size_t max_size = kMaxUnitFileSize);

// Returns the sections systemd accepts in a unit file of the given name's type: "Unit"
// and "Install" plus the type's own ("Timer" for "x.timer", "Service" for "x.service",
// …). Unknown types get only "Unit" and "Install".
std::span<const std::string_view> unit_sections_for(std::string_view unit_name);

// True when text is valid UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace jcorr::baseline
