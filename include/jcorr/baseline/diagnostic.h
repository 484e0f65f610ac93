// A finding about one line of a unit file: what systemd would say about it, as data.
//
// The unit-file and Exec*= parsers never throw and never stop at the first mistake;
// they return these values, and the scanner attaches them, with the file's path, to the
// unit they belong to.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jcorr::baseline {

enum class Severity {
  kWarning,  // systemd logs it and ignores the line or value
  kError,    // systemd refuses to load the unit
};

// Returns "warning" or "error".
std::string_view to_string(Severity severity);

// One finding about a unit file, with where it is and how much systemd cares.
struct Diagnostic {
  std::string path;       // the file, inside the scanned root; empty from the pure parsers
  std::size_t line = 0;   // 1-based physical line where the logical line starts; 0: whole file
  Severity severity = Severity::kWarning;
  std::string code;       // a stable code from codes.h
  std::string message;    // prose for people; may change between versions

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

}  // namespace jcorr::baseline
