// SIGHUP: a good rule set takes effect and the rules that did not change keep their
// partial matches (rebuilt by a silent replay, which must not emit anything again); a
// broken rule set or configuration is rejected with its diagnostics, and the running
// rules keep working.
#include <catch2/catch.hpp>

#include "integration/daemon/live_fixture.h"

using namespace jcorr::test::daemon;

namespace {

bool wait_log(LiveDaemon& d, const std::string& text, std::size_t occurrences = 1) {
  return wait_for([&] { return count_of(d.process.log(), text) >= occurrences; }, 10);
}

}  // namespace

TEST_CASE("daemon: SIGHUP loads a good rule set and rejects a broken one", "[daemon][reload]") {
  LiveDaemon d;
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "early"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "early"}});
  REQUIRE(d.wait_detection("test-pair", "pair early", 5).has_value());
  // A partial match open across the reload.
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "across"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  SECTION("a good rule set: the new rule takes effect, unchanged rules keep their state") {
    spit(d.dir + "/rules/extra-rule.json",
         slurp(std::string(JCORR_SOURCE_DIR) + "/tests/integration/daemon/extra-rule.json"));
    d.process.signal(SIGHUP);
    INFO(d.process.log());
    REQUIRE(wait_log(d, "reloaded: 3 rules (2 unchanged, 1 new or changed)"));
    d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "across"}});
    d.append({{"MESSAGE", "jcorr-test E"}, {"KEY", "new"}});
    CHECK(d.wait_detection("test-pair", "pair across", 5).has_value());
    CHECK(d.wait_detection("test-single", "single new", 5).has_value());
    const std::string body = d.scrape();
    CHECK(metric(body, "jcorr_reloads_total{result=\"ok\"}") == 1.0);
    CHECK(metric(body, "jcorr_rules") == 3.0);
    CHECK(metric(body, "jcorr_entries_replayed_total").value_or(0) >= 4.0);
  }

  SECTION("a broken rule set: diagnostics logged, the old rules keep working") {
    spit(d.dir + "/rules/broken.json", "{\"rules\": [ {\"id\": \"x\", \"title\": \"t\",, } ]}");
    d.process.signal(SIGHUP);
    INFO(d.process.log());
    REQUIRE(wait_log(d, "reload rejected"));
    const std::string log = d.process.log();
    CHECK(log.find("broken.json") != std::string::npos);
    CHECK(log.find("rule.json.syntax") != std::string::npos);
    CHECK(log.find("the running rules are kept") != std::string::npos);
    d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "across"}});
    CHECK(d.wait_detection("test-pair", "pair across", 5).has_value());
    CHECK(metric(d.scrape(), "jcorr_reloads_total{result=\"rejected\"}") == 1.0);
  }

  SECTION("a broken configuration: diagnostics logged, everything keeps running") {
    const std::string good = slurp(d.dir + "/jcorr.json");
    spit(d.dir + "/jcorr.json", R"({"follow": {"directory": "journal"}, "outputs": {"file": 7}, "bogus": 1})");
    d.process.signal(SIGHUP);
    INFO(d.process.log());
    REQUIRE(wait_log(d, "reload rejected"));
    const std::string log = d.process.log();
    CHECK(log.find("/outputs/file") != std::string::npos);
    CHECK(log.find("config.type.mismatch") != std::string::npos);
    CHECK(log.find("config.key.unknown") != std::string::npos);
    spit(d.dir + "/jcorr.json", good);
    d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "across"}});
    CHECK(d.wait_detection("test-pair", "pair across", 5).has_value());
  }

  // Nothing was emitted twice: the replays after the reloads stayed silent.
  const auto ids = ids_in(d.out);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(d.process.terminate() == 0);
}
