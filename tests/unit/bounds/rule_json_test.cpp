// The rule loader never throws: a rule file is user input, and JSON syntax is not the
// only way the JSON parser fails. A number too large for a double is out_of_range,
// not parse_error; it escaped the loader and terminated `jcorr rules check`.
#include <string>

#include "bounds_util.h"
#include "jcorr/core/rule_loader.h"

using namespace jcorr;

TEST_CASE("a number too large for a double is a diagnostic, not an exception", "[bounds]") {
  for (const char* text : {R"({"id": "r", "title": "t", "severity": "low", "x": 1e400})", "[8e1178624823]",
                           R"({"rules": [{"id": "r", "correlate": {"count": {"event": "e", "min": -1e999}}}]})"}) {
    INFO(text);
    core::RuleLoader loader;
    CHECK_NOTHROW(loader.add(text, "big.json"));
    const auto set = loader.finish();
    REQUIRE(loader.diagnostics().size() == 1);
    CHECK(loader.diagnostics()[0].code == core::codes::kJsonSyntax);
    CHECK(loader.diagnostics()[0].message.find("number overflow") != std::string::npos);
    CHECK(set->rules.empty());
  }
}
