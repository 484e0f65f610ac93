// Journal life while following: files vanish (vacuum) and appear (rotation, a new
// host) under the daemon, and it reads every entry exactly once without going back to
// the head; a checkpoint whose entry was vacuumed resumes at the next entry in time and
// says so.
#include <catch2/catch.hpp>

#include <filesystem>

#include "integration/daemon/daemon_test_support.h"

using namespace jcorr::test::daemon;

namespace {

// layout: one file per machine (journal-remote's default --split-mode=host), or every
// machine in one file per generation (--split-mode=none).
void files_vanish_and_appear(bool per_host) {
  TempDir tmp;
  const std::string dir = tmp.path;
  const std::string j = dir + "/journal/";
  REQUIRE(::mkdir((dir + "/journal").c_str(), 0755) == 0);
  spit(dir + "/jcorr.json", R"({
  "rules": ")" + std::string(JCORR_SOURCE_DIR) + R"(/rules",
  "follow": {"directory": "journal"},
  "state_directory": "state",
  "start_at": "head",
  "outputs": {"file": "detections.jsonl"},
  "metrics": {"listen": "127.0.0.1:0"},
  "watermark": {"wall_clock": false},
  "log_level": "debug"
})");
  const auto entries = split_export(slurp(std::string(JCORR_SOURCE_DIR) + "/sample-journals/busy-day/journal.export"));
  std::vector<std::size_t> bounds;
  for (std::size_t c = 0; c <= 5; ++c) bounds.push_back(entries.size() * c / 5);
  auto size = [&](std::size_t c) { return static_cast<double>(bounds[c + 1] - bounds[c]); };

  // One file per host, as journal-remote lays a directory out; each "fN" is a generation
  // of files (rotation).
  auto files = [&](std::size_t c, const std::string& gen) {
    if (per_host) append_by_host(j, gen, entries, bounds[c], bounds[c + 1], dir);
    else journal_remote(j + "remote" + gen + ".journal", join_export(entries, bounds[c], bounds[c + 1]), dir);
  };
  auto remove_generation = [&](const std::string& gen) {
    for (const auto& e : std::filesystem::directory_iterator(j))
      if (e.path().filename().string().ends_with(gen + ".journal")) std::filesystem::remove(e.path());
  };
  files(0, "-f0");
  files(1, "-f1");
  DaemonProcess daemon(dir + "/jcorr.json", dir + "/daemon.log");
  daemon.start();
  std::optional<std::uint16_t> port;
  auto read_total = [&]() -> double {
    port = metrics_port(daemon.log());
    if (!port) return -1;
    auto r = http_get(*port, "/metrics");
    return r ? metric(r->body, "jcorr_entries_read_total").value_or(-1) : -1;
  };
  INFO(daemon.log());
  REQUIRE(wait_for([&] { return read_total() == size(0) + size(1); }, 10));

  // Vacuum the oldest file, then a new file appears and grows.
  remove_generation("-f0");
  files(2, "-f2");
  files(3, "-f2");
  const double expected = size(0) + size(1) + size(2) + size(3);
  REQUIRE(wait_for([&] { return read_total() == expected; }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(read_total() == expected);  // nothing read twice
  {
    const auto body = http_get(*port, "/metrics")->body;
    CHECK(metric(body, "jcorr_journal_invalidations_total").value_or(0) >= 1.0);
    CHECK(metric(body, "jcorr_journal_read_errors_total") == 0.0);
  }
  REQUIRE(daemon.terminate() == 0);

  // The checkpoint's entry is in generation f2; vacuum it while new files arrive.
  files(4, "-f3");
  remove_generation("-f2");
  daemon.start();
  REQUIRE(wait_for([&] { return daemon.log().find("caught up; following") != std::string::npos &&
                                count_of(daemon.log(), "metrics on") == 2; },
                   10));
  REQUIRE(wait_for([&] { return read_total() == size(4); }, 10));
  const std::string log = daemon.log();
  CHECK(log.find("is no longer in the journal (vacuumed or rotated away); resuming at the next entry in time") !=
        std::string::npos);
  // One gap per machine: each one's checkpoint entry was in the vacuumed generation.
  CHECK(metric(http_get(*port, "/metrics")->body, "jcorr_resume_gaps_total") == 3.0);
  CHECK(metric(http_get(*port, "/metrics")->body, "jcorr_journal_streams") == 3.0);
  CHECK(read_total() == size(4));
  REQUIRE(daemon.terminate() == 0);
}

}  // namespace

TEST_CASE("daemon: files vanishing and appearing, and a vacuumed checkpoint entry (a file per machine)",
          "[daemon][journal]") {
  files_vanish_and_appear(true);
}

TEST_CASE("daemon: files vanishing and appearing, and a vacuumed checkpoint entry (machines in one file)",
          "[daemon][journal]") {
  files_vanish_and_appear(false);
}
