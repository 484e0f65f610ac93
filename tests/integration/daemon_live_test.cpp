// The daemon live: entries appended to a followed directory become detections within a
// second or two; an absence fires on the wall clock with no further traffic; the
// daemon's own log lines never feed the rules; metrics are served on 127.0.0.1; and an
// idle daemon uses next to no CPU.
#include <catch2/catch.hpp>

#include "integration/daemon/live_fixture.h"

using namespace jcorr::test::daemon;

namespace {

double cpu_seconds(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("daemon: appended entries become detections within a second or two", "[daemon][live]") {
  LiveDaemon d;
  double worst = 0;
  std::string all;
  for (int i = 0; i < 5; ++i) {
    const std::string key = "k" + std::to_string(i);
    d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", key}});
    // From the start of the append that completes the pair (a systemd-journal-remote
    // run, itself some milliseconds) to the detection in the output file.
    const double t0 = steady_seconds();
    d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", key}});
    const double appended = steady_seconds();
    const auto det = d.wait_detection("test-pair", "pair " + key, 5);
    INFO(d.process.log());
    REQUIRE(det.has_value());
    const double took = steady_seconds() - t0;
    worst = std::max(worst, took);
    all += " " + std::to_string(static_cast<int>(took * 1000)) + " (append " +
           std::to_string(static_cast<int>((appended - t0) * 1000)) + ")";
  }
  std::printf("daemon: append -> detection in the output file, ms:%s\n", all.c_str());
  CHECK(worst < 2.0);
}

TEST_CASE("daemon: an absence fires on the wall clock without new entries", "[daemon][live]") {
  LiveDaemon d;
  // C alone fires when its 2 s pass; its near miss, C answered by D in time, must not.
  d.append_entries({{{"MESSAGE", "jcorr-test C"}, {"KEY", "lonely"}},
                    {{"MESSAGE", "jcorr-test C"}, {"KEY", "answered"}},
                    {{"MESSAGE", "jcorr-test D"}, {"KEY", "answered"}}});
  const double t0 = steady_seconds();
  const auto det = d.wait_detection("test-absence", "no D after C lonely", 8);
  INFO(d.process.log());
  REQUIRE(det.has_value());
  const double waited = steady_seconds() - t0;
  std::printf("daemon: absence (2s window) fired %.1f s after its entry\n", waited);
  CHECK(waited >= 1.5);  // not before its window (2 s, less the time the append took)
  CHECK(waited < 5.5);   // window + wall-clock delay (1 s) + one tick (1 s), and slack
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // one more tick
  CHECK_FALSE(d.wait_detection("test-absence", "no D after C answered", 0).has_value());
}

TEST_CASE("daemon: its own log lines never feed the rules", "[daemon][live]") {
  LiveDaemon d;
  const std::string pid = std::to_string(d.process.pid());
  // As journald would record the daemon's stderr: its _PID, this boot.
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "own"}, {"_PID", pid}, {"_BOOT_ID", boot_id()}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "own"}, {"_PID", pid}, {"_BOOT_ID", boot_id()}});
  // The same from another process does count, and shows the two were read.
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "other"}, {"_PID", "4242"}, {"_BOOT_ID", boot_id()}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "other"}, {"_PID", "4242"}, {"_BOOT_ID", boot_id()}});
  REQUIRE(d.wait_detection("test-pair", "pair other", 5).has_value());
  CHECK_FALSE(d.wait_detection("test-pair", "pair own", 0).has_value());
  CHECK(metric(d.scrape(), "jcorr_entries_own_skipped_total") == 2.0);
}

TEST_CASE("daemon: metrics are served over HTTP on 127.0.0.1", "[daemon][live][metrics]") {
  LiveDaemon d;
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "m"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "m"}});
  REQUIRE(d.wait_detection("test-pair", "pair m", 5).has_value());
  // The checkpoint follows within its interval (1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const std::string body = d.scrape();
  INFO(body);
  CHECK(metric(body, "jcorr_entries_read_total") == 3.0);
  CHECK(metric(body, "jcorr_entries_matched_total") == 2.0);
  CHECK(metric(body, "jcorr_detections_total{rule=\"test-pair\"}") == 1.0);
  CHECK(metric(body, "jcorr_detections_total{rule=\"test-absence\"}") == 0.0);
  CHECK(metric(body, "jcorr_caught_up") == 1.0);
  CHECK(metric(body, "jcorr_lag_seconds").value_or(-1) >= 0.0);
  CHECK(metric(body, "jcorr_lag_seconds").value_or(99) < 10.0);
  CHECK(metric(body, "jcorr_checkpoint_age_seconds").value_or(99) < 2.0);
  CHECK(metric(body, "jcorr_partial_matches").has_value());
  CHECK(metric(body, "jcorr_partial_matches_evicted_total") == 0.0);
  CHECK(metric(body, "jcorr_sink_queue_depth") == 0.0);
  CHECK(metric(body, "jcorr_spool_depth") == 0.0);
  CHECK(metric(body, "jcorr_delivery_failures_total") == 0.0);
  CHECK(body.find("# TYPE jcorr_detections_total counter") != std::string::npos);

  const auto other = http_get(d.port, "/");
  REQUIRE(other.has_value());
  CHECK(other->status == 404);
  const auto post = http_get(d.port, "/metrics", "POST");
  REQUIRE(post.has_value());
  CHECK(post->status == 405);

  CHECK(d.process.terminate() == 0);
  CHECK(d.process.log().find("stopped") != std::string::npos);
}

TEST_CASE("daemon: what the caps cut or evict is counted in metrics", "[daemon][live][metrics][bounds]") {
  LiveDaemon d(R"(,
  "caps": {"capture_bytes": 16, "field_bytes": 256, "partials_per_rule": 2, "history_per_rule": 10,
           "members_per_partial": 4, "regex_bytes": 1048576})");
  // A 1000-byte MESSAGE is cut to field_bytes when read; a 40-byte KEY is captured and
  // cut to capture_bytes on both sides of the join, so the pair still completes.
  const std::string key(40, 'k');
  d.append({{"MESSAGE", "jcorr-test A " + std::string(1000, 'x')}, {"KEY", key}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", key}});
  // Three open pairs under a cap of two: the oldest is evicted.
  d.append_entries({{{"MESSAGE", "jcorr-test A"}, {"KEY", "e1"}},
                    {{"MESSAGE", "jcorr-test A"}, {"KEY", "e2"}},
                    {{"MESSAGE", "jcorr-test A"}, {"KEY", "e3"}}});
  std::string body;
  const bool read_all = wait_for(
      [&] {
        body = d.scrape();
        return metric(body, "jcorr_entries_read_total") == 6.0;
      },
      5);
  INFO(body);
  INFO(d.process.log());
  REQUIRE(read_all);
  CHECK(metric(body, "jcorr_detections_total{rule=\"test-pair\"}") == 1.0);
  CHECK(metric(body, "jcorr_input_values_truncated_total") == 1.0);
  CHECK(metric(body, "jcorr_input_entries_skipped_total") == 0.0);
  CHECK(metric(body, "jcorr_values_truncated_total").value_or(0) >= 1.0);
  CHECK(metric(body, "jcorr_partial_matches_evicted_total") == 1.0);
  CHECK(metric(body, "jcorr_partial_matches") == 2.0);
  CHECK(metric(body, "jcorr_history_dropped_total") == 0.0);
  CHECK(metric(body, "jcorr_members_dropped_total") == 0.0);
  CHECK(d.process.log().find("longer than 256 bytes; truncated") != std::string::npos);
  CHECK(d.process.terminate() == 0);
}

TEST_CASE("daemon: idle, it uses next to no CPU", "[daemon][live][idle]") {
  LiveDaemon d;
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "idle"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "idle"}});
  REQUIRE(d.wait_detection("test-pair", "pair idle", 5).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double before = cpu_seconds(d.process.pid());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double used = cpu_seconds(d.process.pid()) - before;
  std::printf("daemon: CPU used over 3 s idle: %.3f s\n", used);
  CHECK(used <= 0.03);
}

TEST_CASE("daemon: more SIGTERMs while it stops do not cut the stop short", "[daemon][live][signals]") {
  // timeout(1) signals its child and then its whole process group; an operator may press
  // Ctrl-C twice. The daemon must still flush its outputs, write its checkpoint and exit 0.
  LiveDaemon d;
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "term"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "term"}});
  REQUIRE(d.wait_detection("test-pair", "pair term", 10));
  const pid_t pid = d.process.pid();
  REQUIRE(pid > 0);
  std::optional<int> status;
  for (int i = 0; i < 20000; ++i) {  // a SIGTERM every 0.2 ms until it has exited
    status = d.process.wait(0);      // reaps it once it has exited; until then pid is its own
    if (status) break;
    ::kill(pid, SIGTERM);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  INFO(d.process.log());
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  if (WIFEXITED(*status)) CHECK(WEXITSTATUS(*status) == 0);
  CHECK(d.process.log().find("stopped") != std::string::npos);
}
