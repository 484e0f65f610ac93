// The checkpoint's parts without a daemon: cursors parsed and compared the way
// sd-journal orders entries, the file written atomically and read back, and the rewind
// a rule set needs.
#include <catch2/catch.hpp>

#include "integration/daemon/daemon_test_support.h"
#include "jcorr/core/rule_loader.h"
#include "jcorr/daemon/checkpoint.h"
#include "jcorr/daemon/pipeline.h"

using namespace jcorr::daemon;

namespace {

const char* const kCursor =
    "s=c57959994cfd46c789bf68d4b5e7e55b;i=36259;b=d8db68797c024cb0ae54be58ff437f84;m=4086727715;t=644791b5511d5;"
    "x=142a3ad12bb3187d";

EntryPosition pos(std::string s, std::uint64_t i, std::string b, std::uint64_t m, std::uint64_t t, std::uint64_t x = 0) {
  return EntryPosition{std::move(s), i, std::move(b), m, t, x};
}

}  // namespace

TEST_CASE("daemon checkpoint: cursors are parsed into positions", "[daemon][checkpoint]") {
  const auto p = parse_cursor(kCursor);
  REQUIRE(p.has_value());
  CHECK(p->seqnum_id == "c57959994cfd46c789bf68d4b5e7e55b");
  CHECK(p->seqnum == 0x36259);
  CHECK(p->boot_id == "d8db68797c024cb0ae54be58ff437f84");
  CHECK(p->monotonic_us == 0x4086727715);
  CHECK(p->realtime_us == 0x644791b5511d5);
  CHECK(p->xor_hash == 0x142a3ad12bb3187d);
  for (const char* bad : {"", "s=zz;i=1;b=00;m=1;t=1;x=1", "i=1;b=d8db68797c024cb0ae54be58ff437f84;m=1;t=1;x=1",
                          "s=c57959994cfd46c789bf68d4b5e7e55b;i=g;b=d8db68797c024cb0ae54be58ff437f84;m=1;t=1;x=1",
                          "s=c57959994cfd46c789bf68d4b5e7e55b;i=1;b=d8db68797c024cb0ae54be58ff437f84;m=1;t=1;x"}) {
    INFO(bad);
    CHECK_FALSE(parse_cursor(bad).has_value());
  }
}

TEST_CASE("daemon checkpoint: positions compare in sd-journal's order", "[daemon][checkpoint]") {
  const std::string s1(32, 'a'), s2(32, 'b'), b1(32, '1'), b2(32, '2');
  struct Case {
    EntryPosition a, b;
    int expect;
  };
  const std::vector<Case> cases = {
      {pos(s1, 5, b1, 900, 900), pos(s1, 6, b1, 100, 100), -1},  // same series: seqnum wins over times
      {pos(s1, 7, b1, 100, 100), pos(s1, 7, b1, 100, 100), 0},
      {pos(s1, 1, b1, 100, 900), pos(s2, 9, b1, 200, 100), -1},  // other series, same boot: monotonic
      {pos(s1, 1, b1, 100, 100), pos(s2, 1, b2, 50, 200), -1},   // other boot: realtime
      {pos(s1, 1, b1, 100, 300), pos(s2, 1, b2, 50, 200), 1},
      {pos(s1, 1, b1, 100, 200, 1), pos(s2, 1, b2, 50, 200, 2), -1},  // then the hash
  };
  for (const auto& c : cases) {
    CHECK(compare_positions(c.a, c.b) == c.expect);
    CHECK(compare_positions(c.b, c.a) == -c.expect);
  }
}

TEST_CASE("daemon checkpoint: written atomically and read back", "[daemon][checkpoint]") {
  jcorr::test::daemon::TempDir tmp;
  auto none = read_checkpoint(tmp.path);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());

  Checkpoint c;
  c.source = "directory:/var/log/journal/remote";
  c.streams.push_back(StreamPosition{"5cb70139103f4b769ec9c56134a92167", kCursor, *parse_cursor(kCursor)});
  c.watermark = 1764136800555477;
  c.own_pids = {{"d8db68797c024cb0ae54be58ff437f84", 4242}};
  REQUIRE(write_checkpoint(tmp.path, c).has_value());
  // A temporary file left by a crash mid-write is not the checkpoint.
  jcorr::test::daemon::spit(tmp.path + "/checkpoint.json.tmp", "{\"version\": 2, \"sou");
  auto back = read_checkpoint(tmp.path);
  REQUIRE(back.has_value());
  REQUIRE(back->has_value());
  const Checkpoint& r = **back;
  CHECK(r.source == c.source);
  REQUIRE(r.streams.size() == 1);
  CHECK(r.streams[0] == c.streams[0]);
  CHECK(compare_positions(r.streams[0].position, c.streams[0].position) == 0);
  CHECK(r.watermark == c.watermark);
  CHECK(r.own_pids == c.own_pids);

  jcorr::test::daemon::spit(tmp.path + "/checkpoint.json", "{\"version\": 2, \"sou");
  CHECK_FALSE(read_checkpoint(tmp.path).has_value());  // corrupt: an error, never "no checkpoint"
}

TEST_CASE("daemon checkpoint: the rewind covers windows, suppression, detection feeds and lateness",
          "[daemon][checkpoint]") {
  jcorr::core::RuleLoader loader;
  loader.add(R"({"rules": [
    {"id": "a", "title": "t", "severity": "low", "events": {"x": {"where": {"_COMM": "x"}}, "y": {"where": {"_COMM": "y"}}},
     "correlate": {"sequence": ["x", "y"], "within": "10m"}, "suppress": {"by": ["_MACHINE_ID"], "for": "1h"}},
    {"id": "b", "title": "t", "severity": "low", "events": {"d": {"from": "detections", "where": {"rule": "a"}}},
     "correlate": {"count": {"event": "d", "min": 2}, "within": "30m"}}
  ]})", "inline.json");
  auto set = loader.finish();
  std::string diags;
  for (const auto& d : loader.diagnostics())
    if (d.severity == jcorr::core::Severity::kError) diags += d.to_string() + "\n";
  INFO(diags);
  REQUIRE(set->rules.size() == 2);
  constexpr jcorr::core::Micros kMinute = 60'000'000;
  // b: its own 30m plus everything a (10m window + 1h suppression) keeps, plus 5m lateness.
  CHECK(rewind_for(*set, 5 * kMinute) == (30 + 10 + 60 + 5) * kMinute);
}
