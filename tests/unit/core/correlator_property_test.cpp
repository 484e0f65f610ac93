// Property: the detections depend on the entries, not on how the calls are batched.
// Random rule-relevant streams (seeded) are fed one by one with the clock moved after
// each entry, all at once then finished, and in random batches with advance_to() at
// random times no later than the next entry allows; every way must give the same
// detections, with the same ids, in the same order.
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core_test_util.h"

using namespace jcorr;

namespace {

using core::Micros;
constexpr Micros kSec = 1000000;

// Every kind of correlation and step option, over four events that share users,
// sessions and hosts so that they interleave.
const std::string kRules = R"J({
  "lists": {"blocked": ["u3"]},
  "events": {
    "a": {"where": {"_COMM": "a"}, "capture": {"user": "USER", "sid": "SID", "n": "N"}},
    "b": {"where": {"_COMM": "b"}, "capture": {"user": "USER", "sid": "SID", "n": "N"}},
    "c": {"where": {"_COMM": "c"}, "capture": {"user": "USER", "sid": "SID", "n": "N"}},
    "d": {"where": {"_COMM": "d"}, "capture": {"user": "USER", "sid": "SID", "n": "N"}}
  },
  "rules": [
    {"id": "seq-join", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", {"event": "b", "join": {"user": "a.user"}}], "within": "30s"},
     "values": {"user": "a.user"}},
    {"id": "seq-opt-runs", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", {"event": "b", "optional": true}, {"event": "c", "repeat": "2+", "join": {"user": "a.user"}}, "d"],
                   "within": "60s", "emit": "each"},
     "values": {"ns": "c.n"}},
    {"id": "seq-fixed-gap", "title": "t", "severity": "low",
     "correlate": {"sequence": ["b", {"event": "c", "repeat": 2, "within": "10s"}, "a"], "within": "45s"}},
    {"id": "seq-until-by", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", "b"], "within": "40s", "by": ["SID"], "until": {"event": "d", "join": {"user": "a.user"}}}},
    {"id": "absent-trailing", "title": "t", "severity": "medium",
     "correlate": {"sequence": ["a", {"event": "b", "absent": true, "join": {"user": "a.user"}}], "within": "20s"},
     "values": {"user": "a.user"}},
    {"id": "absent-trailing-gap", "title": "t", "severity": "low",
     "correlate": {"sequence": ["c", {"event": "d", "absent": true, "within": "15s"}], "within": "60s", "until": "a"}},
    {"id": "absent-leading", "title": "t", "severity": "medium",
     "correlate": {"sequence": [{"event": "a", "absent": true}, {"event": "b", "join": {"user": "a.user"}}], "within": "25s"},
     "values": {"user": "b.user"}},
    {"id": "absent-middle", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", {"event": "c", "absent": true, "join": {"user": "a.user"}}, "d"], "within": "30s"}},
    {"id": "all-of", "title": "t", "severity": "low", "correlate": {"all_of": ["a", "b", "c"], "within": "30s", "by": ["user"]}},
    {"id": "count", "title": "t", "severity": "low", "correlate": {"count": {"event": "a", "min": 3}, "within": "20s"}},
    {"id": "distinct", "title": "t", "severity": "low",
     "correlate": {"distinct": {"event": "d", "min": 2, "value": "user"}, "within": "30s", "by": ["sid"]}},
    {"id": "suppressed", "title": "t", "severity": "low", "correlate": {"sequence": ["b"]},
     "suppress": {"by": ["b.user"], "for": "30s"}},
    {"id": "global", "title": "t", "severity": "low", "scope": "global",
     "correlate": {"sequence": ["a", {"event": "b", "join": {"user": "a.user"}}], "within": "10s"}},
    {"id": "where-unless", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", {"event": "c", "within": "20s"}], "within": "30s",
                   "where": {"a.n": {"ge": 5}}, "unless": {"a.user": {"in_list": "blocked"}}}},
    {"id": "prefer", "title": "t", "severity": "low",
     "correlate": {"sequence": ["a", "b", {"event": "c", "prefer": {"user": "a.user"}}], "within": "30s", "emit": "each"}},
    {"id": "feed-count", "title": "t", "severity": "high",
     "events": {"det": {"from": "detections", "where": {"rule": ["absent-trailing", "seq-join"]}, "capture": {"who": "user"}}},
     "correlate": {"count": {"event": "det", "min": 2}, "within": "60s"}},
    {"id": "feed-seq", "title": "t", "severity": "high",
     "events": {"det": {"from": "detections", "where": {"rule": "absent-leading"}, "capture": {"who": "user"}}},
     "correlate": {"sequence": ["det", {"event": "c", "join": {"user": "det.who"}}], "within": "30s"}}
  ]
})J";

struct Entry {
  Micros t;  // µs after the epoch
  std::string comm, user, sid, n, machine;
};

// A few hundred entries; gaps include 0 (equal times), 1µs, and multiples of five
// seconds, so that windows are met at their edges.
std::vector<Entry> random_stream(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  static const Micros gaps[] = {0, 1, kSec, 5 * kSec, 5 * kSec, 10 * kSec, 15 * kSec, 20 * kSec, 30 * kSec, 5 * kSec + 1};
  static const char* comms[] = {"a", "b", "c", "d", "a", "b", "c", "x"};
  static const char* users[] = {"u1", "u2", "u3", ""};
  std::vector<Entry> out;
  Micros t = 0;
  for (std::size_t i = 0; i < count; ++i) {
    t += gaps[pick(std::size(gaps))];
    out.push_back({t, comms[pick(std::size(comms))], users[pick(std::size(users))], pick(2) ? "1" : "2",
                   std::to_string(pick(10)), pick(4) ? "m1" : "m2"});
  }
  return out;
}

core::Event make(const core::RuleSet& set, const Entry& e, std::size_t index) {
  core::Event ev;
  ev.realtime_us = test::kEpoch + static_cast<std::uint64_t>(e.t);
  ev.monotonic_us = static_cast<std::uint64_t>(e.t);
  ev.cursor = "s=0;i=" + std::to_string(index) + ";b=boot;m=" + std::to_string(e.t) + ";t=" + std::to_string(ev.realtime_us) +
              ";x=" + std::to_string(index);
  ev.add(core::kMachineIdField, e.machine);
  ev.add(core::kHostnameField, "host-" + e.machine);
  auto put = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    if (auto id = set.schema.find(name)) ev.add(*id, v);
  };
  put("_COMM", e.comm);
  put("USER", e.user);
  put("SID", e.sid);
  put("N", e.n);
  return ev;
}

enum class Mode { kOneByOne, kAllAtOnce, kRandomBatches };

// Runs the stream; returns each detection as its canonical JSON line.
std::vector<std::string> run(const core::RuleSet& set, const std::vector<Entry>& stream, Mode mode, Micros lateness,
                             std::uint64_t seed, core::CorrelatorStats* stats = nullptr) {
  core::CorrelatorOptions opts;
  opts.allowed_lateness = lateness;
  core::Correlator c(set, opts);
  std::vector<core::Detection> out;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  const Micros epoch = static_cast<Micros>(test::kEpoch);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    c.process(make(set, stream[i], i), out);
    switch (mode) {
      case Mode::kOneByOne:
        c.advance_to(epoch + stream[i].t - lateness, out);
        break;
      case Mode::kAllAtOnce:
        break;
      case Mode::kRandomBatches: {
        // Between this entry and the next, move the clock zero to three times, to random
        // times that the next entry's own watermark would reach anyway.
        if (i + 1 == stream.size()) break;
        const Micros lo = stream[i].t - lateness;
        const Micros hi = stream[i + 1].t - lateness;
        const std::size_t moves = static_cast<std::size_t>(rng() % 4);
        std::vector<Micros> at;
        for (std::size_t k = 0; k < moves; ++k)
          at.push_back(hi <= lo ? hi : lo + static_cast<Micros>(rng() % static_cast<std::uint64_t>(hi - lo + 1)));
        std::sort(at.begin(), at.end());
        for (Micros m : at) c.advance_to(epoch + m, out);
        break;
      }
    }
  }
  c.finish(out);
  if (stats) *stats = c.stats();
  std::vector<std::string> lines;
  for (const auto& d : out) lines.push_back(core::to_json_line(d));
  return lines;
}

}  // namespace

TEST_CASE("property: batching does not change detections, ids or their order", "[property]") {
  auto set = test::load_ok(kRules);
  std::size_t total = 0;
  std::set<std::string> rules_seen;
  for (const Micros lateness : {Micros{0}, 7 * kSec}) {
    for (std::uint64_t seed = 1; seed <= 24; ++seed) {
      const auto stream = random_stream(seed, 300);
      INFO("seed " << seed << ", lateness " << lateness);
      core::CorrelatorStats one_stats;
      const auto one = run(*set, stream, Mode::kOneByOne, lateness, seed, &one_stats);
      const auto all = run(*set, stream, Mode::kAllAtOnce, lateness, seed);
      const auto batches = run(*set, stream, Mode::kRandomBatches, lateness, seed);
      REQUIRE(one.size() == all.size());
      REQUIRE(one.size() == batches.size());
      for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("detection " << i);
        REQUIRE(one[i] == all[i]);
        REQUIRE(one[i] == batches[i]);
      }
      CHECK(one_stats.partials == 0);  // finish leaves nothing behind
      total += one.size();
      for (const auto& line : one) rules_seen.insert(nlohmann::json::parse(line).at("rule").get<std::string>());
    }
  }
  // The streams exercise every rule (a property over nothing would prove nothing).
  CHECK(total > 1000);
  std::set<std::string> want;
  for (const auto& r : set->rules) want.insert(r->id);
  CHECK(rules_seen == want);
}

TEST_CASE("property: in-order input gives the same detections whatever the allowed lateness", "[property]") {
  // Lateness only delays expiry; with entries in time order it must not change what is
  // detected (only when absences are released relative to later entries). Rules fed by
  // detections are left out: a detection released later is an entry that arrives later.
  auto set = test::load_ok(kRules);
  for (std::uint64_t seed = 100; seed < 116; ++seed) {
    const auto stream = random_stream(seed, 300);
    auto ids = [&](Micros lateness) {
      std::multiset<std::string> s;
      for (const auto& line : run(*set, stream, Mode::kOneByOne, lateness, seed)) {
        const auto j = nlohmann::json::parse(line);
        if (!j.at("rule").get<std::string>().starts_with("feed-")) s.insert(j.at("id").get<std::string>());
      }
      return s;
    };
    INFO("seed " << seed);
    CHECK(ids(0) == ids(30 * kSec));
  }
}
