// A daemon following a journal directory of entries made "now" by the test: the test
// rules (marker-rules.json) join entries by MESSAGE prefix and KEY, and every append is
// a real systemd-journal-remote run into the directory.
#pragma once

#include "integration/daemon/daemon_test_support.h"

namespace jcorr::test::daemon {

struct LiveDaemon {
  TempDir tmp;
  std::string dir = tmp.path;
  std::string journal_file = dir + "/journal/live.journal";
  std::string out = dir + "/detections.jsonl";
  DaemonProcess process{dir + "/jcorr.json", dir + "/daemon.log"};
  std::uint16_t port = 0;
  std::uint64_t last_time = 0;

  // extra_config: more configuration keys (",\n  \"key\": value"); outputs: the
  // "outputs" object; files: written into the directory before the daemon starts.
  explicit LiveDaemon(const std::string& extra_config = "",
                      const std::string& outputs = R"({"file": "detections.jsonl"})",
                      const std::vector<std::pair<std::string, std::string>>& files = {}) {
    for (const auto& [name, text] : files) spit(dir + "/" + name, text);
    REQUIRE(::mkdir((dir + "/journal").c_str(), 0755) == 0);
    REQUIRE(::mkdir((dir + "/rules").c_str(), 0755) == 0);
    spit(dir + "/rules/marker-rules.json",
         slurp(std::string(JCORR_SOURCE_DIR) + "/tests/integration/daemon/marker-rules.json"));
    spit(dir + "/jcorr.json", R"({
  "rules": "rules",
  "follow": {"directory": "journal"},
  "state_directory": "state",
  "start_at": "head",
  "outputs": )" + outputs + R"(,
  "metrics": {"listen": "127.0.0.1:0"},
  "watermark": {"wall_clock": true, "wall_clock_delay": "1s"},
  "log_level": "info")" + extra_config + R"(
})");
    // One entry so that the journal exists before the daemon opens it.
    append({{"MESSAGE", "jcorr-test hello"}});
    process.start();
    wait_caught_up();
  }

  void wait_caught_up() {
    const bool ok = wait_for([&] { return process.log().find("caught up; following") != std::string::npos; }, 10);
    INFO(process.log());
    REQUIRE(ok);
    port = metrics_port(process.log()).value_or(0);
    REQUIRE(port != 0);
  }

  // Appends entries stamped now (strictly increasing), each with the given fields.
  void append_entries(const std::vector<std::vector<std::pair<std::string, std::string>>>& entries) {
    std::vector<ExportEntry> es;
    for (const auto& fields : entries) {
      last_time = std::max(now_us(), last_time + 1);
      es.push_back(ExportEntry{last_time, fields});
    }
    journal_remote(journal_file, render_export(es), dir);
  }

  void append(std::vector<std::pair<std::string, std::string>> fields) { append_entries({std::move(fields)}); }

  // Waits until a detection of rule with the given summary is in the output.
  std::optional<nlohmann::json> wait_detection(const std::string& rule, const std::string& summary, double timeout_s) {
    std::optional<nlohmann::json> found;
    wait_for(
        [&] {
          for (auto& d : detections_in(out))
            if (d["rule"] == rule && d["summary"] == summary) {
              found = d;
              return true;
            }
          return false;
        },
        timeout_s);
    return found;
  }

  std::string scrape() {
    auto r = http_get(port, "/metrics");
    REQUIRE(r.has_value());
    REQUIRE(r->status == 200);
    return r->body;
  }
};

}  // namespace jcorr::test::daemon
