// The Exec*= value parser: splits an ExecStart=/ExecStartPre=/… value into commands,
// their prefixes and argv, as systemd's config_parse_exec() does.
//
// Rules followed: a value may hold several commands separated by a lone ";" word ("\;"
// is a literal ";" argument); the first word may carry the prefixes "-" (ignore
// failure), "@" (the second word is argv[0]), ":" (no environment expansion), "+" (full
// privileges), "!" (no credential change) and "!!" (ambient capabilities), each at most
// once and "+" not with "!"; words are split at blanks; single and double quotes group
// (and may start mid-word: a"b c"d is one word); C escapes (\n, \t, \x41, \101, \u00e9,
// \s, \\, \", \', …) are decoded inside and outside quotes, and any other escape is an
// error. Specifiers ("%i", "%T", …) and "$VAR" are kept unexpanded. The empty value
// (which resets the list) is the caller's business and yields no command here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/baseline/diagnostic.h"

namespace jcorr::baseline {

// One command of an Exec*= value.
struct ExecCommand {
  std::string path;               // the executable, as written (absolute path or bare name)
  std::vector<std::string> argv;  // argv[0] included; with "@" it is the second word
  bool ignore_failure = false;    // "-"
  bool separate_argv0 = false;    // "@"
  bool no_env_expand = false;     // ":"
  bool full_privileges = false;   // "+"
  bool no_setuid = false;         // "!"
  bool ambient_magic = false;     // "!!"

  // Returns the prefixes in the canonical order "-@:+!" (with "!!" for ambient_magic),
  // empty when there are none.
  std::string prefix() const;

  friend bool operator==(const ExecCommand&, const ExecCommand&) = default;
};

// What parse_exec_value() found.
struct ExecParse {
  std::vector<ExecCommand> commands;
  std::vector<Diagnostic> diagnostics;  // each with the line given to parse_exec_value
  // True when systemd would refuse to load the unit because of this value (an error
  // diagnostic that no "-" prefix downgraded).
  bool refused = false;
};

// Parses one Exec*= value. line is copied into the diagnostics. Never throws.
ExecParse parse_exec_value(std::string_view value, std::size_t line = 0);

// Splits text into words with systemd's quoting and C-escape rules, as for Exec*= argv
// after the first word. Returns false (and leaves words partial) on an unterminated quote
// or an invalid escape.
bool split_exec_words(std::string_view text, std::vector<std::string>& words);

}  // namespace jcorr::baseline
