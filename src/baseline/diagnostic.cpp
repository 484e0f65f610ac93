#include "jcorr/baseline/diagnostic.h"

namespace jcorr::baseline {

std::string_view to_string(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

}  // namespace jcorr::baseline
