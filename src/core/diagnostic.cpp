#include "jcorr/core/diagnostic.h"

#include <algorithm>

namespace jcorr::core {

std::string Diagnostic::to_string() const {
  std::string out = origin.empty() ? std::string("<input>") : origin;
  if (line != 0) {
    out += ':' + std::to_string(line);
    if (column != 0) out += ':' + std::to_string(column);
  }
  out += ':';
  if (!pointer.empty()) out += pointer;
  if (!rule_id.empty()) out += " [" + rule_id + ']';
  out += ' ';
  out += severity == Severity::kError ? "error " : "warning ";
  out += code;
  out += ": ";
  out += message;
  return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace jcorr::core
