// The daemon follows a journal directory that grows while it runs (chunks of a sample
// journal of three hosts appended by systemd-journal-remote to one file per host, and
// every fifth chunk written to new files, as rotation does), and is killed with SIGKILL at random points, ten times. After the
// last restart has caught up, the detections it wrote (deduplicated by id, as a durable
// sink would) must be exactly those of one uninterrupted `jcorr replay` of the same
// directory: none missing, none unknown.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "integration/daemon/daemon_test_support.h"

using namespace jcorr::test::daemon;

namespace {

// The data is a year old, so the wall clock would expire every window between two
// chunks; the watermark follows the data only here, as for any backfill.
std::string restart_config() {
  return R"({
  "rules": ")" + std::string(JCORR_SOURCE_DIR) + R"(/rules",
  "follow": {"directory": "journal"},
  "state_directory": "state",
  "start_at": "head",
  "outputs": {"file": "detections.jsonl"},
  "metrics": {"enabled": false},
  "watermark": {"wall_clock": false},
  "checkpoint_interval": "100ms"
})";
}

}  // namespace

TEST_CASE("daemon: killed -9 ten times while the journal grows, it emits exactly the replay's detections",
          "[daemon][restart]") {
  TempDir tmp;
  const std::string dir = tmp.path;
  REQUIRE(::mkdir((dir + "/journal").c_str(), 0755) == 0);
  spit(dir + "/jcorr.json", restart_config());

  const auto entries = split_export(slurp(std::string(JCORR_SOURCE_DIR) + "/sample-journals/busy-day/journal.export"));
  REQUIRE(entries.size() > 4000);
  constexpr std::size_t kChunks = 16;
  constexpr int kKills = 10;

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto pause_ms = [&](int max) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, max)(rng)));
  };

  DaemonProcess daemon(dir + "/jcorr.json", dir + "/daemon.log");
  daemon.start();
  int kills = 0;
  std::string generation;
  for (std::size_t c = 0; c < kChunks; ++c) {
    // One file per host (journal-remote's layout); every fifth chunk starts new files,
    // as after a rotation.
    if (c > 0 && c % 5 == 0) generation = "-" + std::to_string(c);
    append_by_host(dir + "/journal", generation, entries, entries.size() * c / kChunks,
                   entries.size() * (c + 1) / kChunks, dir);
    pause_ms(150);
    if (kills < kKills) {
      daemon.kill9();
      ++kills;
      pause_ms(50);
      daemon.start();
      pause_ms(100);  // sometimes still rebuilding when the next chunk lands or the next kill comes
    }
  }
  REQUIRE(kills == kKills);

  // The last run catches up: its checkpoint reaches every machine's newest entry.
  std::map<std::string, std::uint64_t> newest;
  for (const auto& e : entries)
    newest[export_field(e, "_MACHINE_ID")] = std::stoull(export_field(e, "__REALTIME_TIMESTAMP"));
  const bool caught_up = wait_for(
      [&] {
        const auto cp = nlohmann::json::parse(slurp(dir + "/state/checkpoint.json"), nullptr, false);
        if (!cp.is_object() || !cp.contains("streams")) return false;
        std::map<std::string, std::uint64_t> at;
        for (const auto& s : cp["streams"]) at[s["machine_id"].get<std::string>()] = s["realtime_us"].get<std::uint64_t>();
        return at == newest;
      },
      20);
  INFO(daemon.log());
  REQUIRE(caught_up);
  REQUIRE(daemon.terminate() == 0);

  const auto emitted = ids_in(dir + "/detections.jsonl");
  const std::set<std::string> unique(emitted.begin(), emitted.end());
  const auto expected = replay_ids(std::string(JCORR_SOURCE_DIR) + "/rules", dir + "/journal");
  REQUIRE(expected.size() >= 10);
  std::vector<std::string> missing;
  std::vector<std::string> unknown;
  std::set_difference(expected.begin(), expected.end(), unique.begin(), unique.end(), std::back_inserter(missing));
  std::set_difference(unique.begin(), unique.end(), expected.begin(), expected.end(), std::back_inserter(unknown));
  INFO("emitted " << emitted.size() << " lines, " << unique.size() << " unique; replay " << expected.size());
  CHECK(missing.empty());
  CHECK(unknown.empty());
  // Every line in the file is a whole detection, even after kills mid-write.
  CHECK(count_of(slurp(dir + "/detections.jsonl"), "\n") == emitted.size());
}
