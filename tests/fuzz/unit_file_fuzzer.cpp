// libFuzzer harness: the unit-file parser (baseline) on arbitrary text.
//
// Properties: it never crashes or hangs; a file is loadable exactly when no error
// diagnostic was reported; assignments come in line order, inside the text's line
// count, with keys stripped of blanks; text over the size cap is refused whole.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "jcorr/baseline/unit_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jcorr::baseline;
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static constexpr std::string_view kTimer[] = {"Unit", "Install", "Timer"};
  const std::size_t max_size = (data[0] & 1) ? text.size() / 2 + 1 : kMaxUnitFileSize;
  const UnitFile f = (data[0] & 2) ? parse_unit_file(text, kTimer, max_size) : parse_unit_file(text, {}, max_size);
  bool any_error = false;
  for (const auto& d : f.diagnostics) {
    FUZZ_CHECK(!d.code.empty(), "every diagnostic has a code");
    any_error = any_error || d.severity == Severity::kError;
  }
  FUZZ_CHECK(f.loadable == !any_error, "loadable exactly when there is no error");
  if (text.size() > max_size) FUZZ_CHECK(f.assignments.empty() && !f.loadable, "oversized text is refused whole");
  // systemd's read_line() ends a line at LF, CR or NUL (CRLF once; counting it twice
  // only loosens this upper bound).
  std::size_t physical_lines = 1;
  for (const char c : text) physical_lines += (c == '\n' || c == '\r' || c == '\0') ? 1 : 0;
  std::size_t last = 0;
  for (const auto& a : f.assignments) {
    FUZZ_CHECK(a.line >= 1 && a.line <= physical_lines, "assignment lines lie inside the text");
    FUZZ_CHECK(a.line >= last, "assignments come in line order");
    last = a.line;
    if (a.key.empty()) continue;
    FUZZ_CHECK(a.key.front() != ' ' && a.key.front() != '\t' && a.key.back() != ' ' && a.key.back() != '\t',
               "keys are stripped");
  }
  (void)is_valid_utf8(text);
  return 0;
}
