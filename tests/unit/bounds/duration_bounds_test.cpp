// Durations in rules are sums of terms ("1h30m"); each term was bounded, the sum was
// not, so a hostile rule with enough large terms overflowed a signed 64-bit total
// (undefined behaviour; in practice a negative window).
#include <string>

#include "bounds_util.h"
#include "jcorr/core/rule_loader.h"

using namespace jcorr;

TEST_CASE("a duration whose terms sum past the limit is rejected, not overflowed", "[bounds]") {
  std::string many;
  for (int i = 0; i < 4096; ++i) many += "52000d ";  // each term is under 2^52 µs, the sum is not
  const auto d = core::parse_duration(many);
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error() == "duration too large");
  CHECK(core::parse_duration("52000d").has_value());
  CHECK(core::parse_duration("26000d 26000d").has_value());
  CHECK_FALSE(core::parse_duration("26000d 26000d 26000d").has_value());  // 78000 days > 2^52 µs
  // In a rule it is a diagnostic, not a negative window.
  core::RuleLoader loader;
  loader.add(R"({"id": "r", "title": "t", "severity": "low",
                 "events": {"e": {"where": {"_COMM": "sshd"}}},
                 "correlate": {"sequence": ["e", "e"], "within": ")" + many + R"("}})",
             "bounds.json");
  (void)loader.finish();
  bool reported = false;
  for (const auto& diag : loader.diagnostics()) reported = reported || diag.code == core::codes::kDurationInvalid;
  CHECK(reported);
}
