// Detection enrichment over real unit trees: a changed ExecStart, a deleted service
// file, a service symlink escaping the root, a transient timer, a huge unit file, and
// detections that must not be enriched — each checked exactly.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "baseline/sha256.h"
#include "jcorr/app/render.h"
#include "jcorr/baseline/enrichment.h"
#include "jcorr/baseline/scanner.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using nlohmann::json;
using testing::TempTree;

namespace {

constexpr long kT0 = 1700000000;
constexpr const char* kMachineId = "0123456789abcdef0123456789abcdef";

void write_unit(const TempTree& t, std::string_view path, std::string_view content, long mtime) {
  t.write(path, content);
  t.set_mtime(path, mtime);
}

core::Detection timer_detection(std::string machine_id, std::string timer, std::string service = "") {
  core::Detection d;
  d.rule_id = "t1053.006-system-timer-ssh-sudo";
  d.machine_id = std::move(machine_id);
  d.values["timer"] = timer;
  d.values["user"] = "alice";
  if (!service.empty()) d.values["service"] = service;
  return d;
}

json file_json(const std::string& path, const std::string& content, long mtime, const std::string& link_target = "") {
  return {{"path", path},     {"resolved", path}, {"link_target", link_target}, {"uid", 0},
          {"gid", 0},         {"owner", "root"},  {"group", "root"},            {"mode", "0644"},
          {"mtime", mtime},   {"size", content.size()}, {"sha256", sha256_hex(content)}};
}

const std::string kTimer = "[Timer]\nOnCalendar=daily\nPersistent=true\n";
const std::string kService = "[Service]\nExecStart=/usr/bin/backup --all\nUser=backup\n";
const std::string kReportTimer = "[Timer]\nOnCalendar=weekly\nUnit=report-run.service\n";
const std::string kReportService = "[Service]\nExecStart=/usr/bin/report\n";

// The approved tree; the test changes it after taking the baseline.
void approved_tree(const TempTree& t) {
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbackup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n");
  t.write("/etc/group", "root:x:0:\n");
  t.write("/etc/machine-id", std::string(kMachineId) + "\n");
  write_unit(t, "/etc/systemd/system/backup.timer", kTimer, kT0);
  write_unit(t, "/etc/systemd/system/backup.service", kService, kT0);
  write_unit(t, "/etc/systemd/system/report.timer", kReportTimer, kT0);
  write_unit(t, "/etc/systemd/system/report-run.service", kReportService, kT0);
}

}  // namespace

TEST_CASE("enrichment of a timer whose service's ExecStart changed", "[baseline][enrichment]") {
  TempTree t;
  approved_tree(t);
  const Baseline approved = scan(t.root());
  const std::string changed = "[Service]\nExecStart=/dev/shm/.b --all\nUser=backup\n";
  write_unit(t, "/etc/systemd/system/backup.service", changed, kT0 + 60);

  auto watch = BaselineWatch::open(approved, t.root());
  REQUIRE(watch);
  Enricher enricher(*watch);
  core::Detection d = timer_detection(kMachineId, "backup.timer", "backup.service");
  REQUIRE(enricher.attach(d));
  const json expected = {
      {"root", t.root().string()},
      {"machine_id", kMachineId},
      {"baseline", true},
      {"timers",
       {{{"unit", "backup.timer"},
         {"scope", "system"},
         {"state", "loaded"},
         {"baseline", "changed"},
         {"schedule", {{"OnCalendar", {"daily"}}, {"Persistent", {"true"}}}},
         {"files", {file_json("/etc/systemd/system/backup.timer", kTimer, kT0)}},
         {"service",
          {{"unit", "backup.service"},
           {"scope", "system"},
           {"state", "loaded"},
           {"baseline", "changed"},
           {"exec_start", {"/dev/shm/.b --all"}},
           {"user", "backup"},
           {"files", {file_json("/etc/systemd/system/backup.service", changed, kT0 + 60)}}}},
         {"risks",
          {{{"unit", "backup.service"},
            {"code", "exec.hidden-path"},
            {"reason", "ExecStart runs executable /dev/shm/.b with a hidden path component '.b'"}},
           {{"unit", "backup.service"},
            {"code", "exec.temp-path"},
            {"reason", "ExecStart runs executable /dev/shm/.b from a temporary directory"}}}},
         {"changes",
          {{{"unit", "backup.service"},
            {"property", "fragment.sha256"},
            {"old", sha256_hex(kService)},
            {"new", sha256_hex(changed)}},
           {{"unit", "backup.service"}, {"property", "fragment.size"}, {"old", kService.size()}, {"new", changed.size()}},
           {{"unit", "backup.service"}, {"property", "fragment.mtime"}, {"old", kT0}, {"new", kT0 + 60}},
           {{"unit", "backup.service"},
            {"property", "directive.ExecStart"},
            {"old", {"/usr/bin/backup --all"}},
            {"new", {"/dev/shm/.b --all"}}},
           {{"unit", "backup.service"},
            {"property", "risks"},
            {"old", json::array()},
            {"new", {"exec.hidden-path", "exec.temp-path"}}}}},
         {"problems", json::array()}}}}};
  CHECK(d.enrichment.dump(2) == expected.dump(2));
  CHECK(core::to_json(d)["enrichment"] == expected);
}

TEST_CASE("enrichment reports missing, escaping and transient files as findings", "[baseline][enrichment]") {
  TempTree t, outside;
  approved_tree(t);
  const Baseline approved = scan(t.root());
  // After the baseline: report-run.service is deleted; esc.timer is new and its service
  // is a symlink to a file outside the root (which must not be read); huge.timer is
  // larger than the scanner's bound.
  std::filesystem::remove(t.host("/etc/systemd/system/report-run.service"));
  const std::string esc_timer = "[Timer]\nOnActiveSec=30s\n";
  write_unit(t, "/etc/systemd/system/esc.timer", esc_timer, kT0 + 60);
  outside.write("/esc.service", "[Service]\nExecStart=/bin/sh -c 'id > /tmp/pwned'\n");
  const std::string escape = outside.host("/esc.service").string();
  t.symlink("/etc/systemd/system/esc.service", escape);
  t.write("/etc/systemd/system/huge.timer", "[Timer]\n" + std::string(2u << 20, '#'));

  WatchOptions options;
  options.scan.max_file_size = 1u << 20;
  auto watch = BaselineWatch::open(approved, t.root(), options);
  REQUIRE(watch);
  Enricher enricher(*watch);

  SECTION("a deleted service file") {
    core::Detection d = timer_detection(kMachineId, "report.timer");
    REQUIRE(enricher.attach(d));
    const json expected = {{{"unit", "report.timer"},
                            {"scope", "system"},
                            {"state", "loaded"},
                            {"baseline", "changed"},  // through its service
                            {"schedule", {{"OnCalendar", {"weekly"}}, {"Unit", {"report-run.service"}}}},
                            {"files", {file_json("/etc/systemd/system/report.timer", kReportTimer, kT0)}},
                            {"service",
                             {{"unit", "report-run.service"},
                              {"scope", "system"},
                              {"state", "not-found"},
                              {"missing", "deleted"},
                              {"note", "report-run.service is in the baseline but its file is gone"},
                              {"baseline", "changed"},
                              {"exec_start", json::array()},
                              {"user", nullptr},
                              {"files", json::array()}}},
                            {"risks", json::array()},
                            {"changes",
                             {{{"unit", "report-run.service"}, {"property", "state"}, {"old", "loaded"}, {"new", "not-found"}},
                              {{"unit", "report-run.service"},
                               {"property", "fragment"},
                               {"old", "/etc/systemd/system/report-run.service"},
                               {"new", nullptr}},
                              {{"unit", "report-run.service"},
                               {"property", "directive.ExecStart"},
                               {"old", {"/usr/bin/report"}},
                               {"new", json::array()}}}},
                            {"problems", json::array()}}};
    CHECK(d.enrichment["timers"].dump(2) == expected.dump(2));
  }

  SECTION("a service symlink that escapes the root is never followed out of it") {
    core::Detection d = timer_detection(kMachineId, "esc.timer");
    REQUIRE(enricher.attach(d));
    const json expected = {
        {{"unit", "esc.timer"},
         {"scope", "system"},
         {"state", "loaded"},
         {"baseline", "new"},
         {"schedule", {{"OnActiveSec", {"30s"}}}},
         {"files", {file_json("/etc/systemd/system/esc.timer", esc_timer, kT0 + 60)}},
         {"service",
          {{"unit", "esc.service"},
           {"scope", ""},
           {"state", "missing"},
           {"missing", "unreadable"},
           {"note", "a file for esc.service exists but could not be used (see problems)"},
           {"baseline", "unknown"},
           {"exec_start", json::array()},
           {"user", nullptr},
           {"files", json::array()}}},
         {"risks", json::array()},
         {"changes", json::array()},
         {"problems",
          {{{"code", "fs.broken-symlink"},
            {"path", "/etc/systemd/system/esc.service"},
            // Resolved inside the root, the link's /tmp/… is a path the image does not have.
            {"message", "broken symlink in /etc/systemd/system/esc.service: /tmp does not exist"}}}}}};
    CHECK(d.enrichment["timers"].dump(2) == expected.dump(2));
    CHECK(d.enrichment.dump().find("pwned") == std::string::npos);
  }

  SECTION("a huge unit file is a problem, not a read") {
    core::Detection d = timer_detection(kMachineId, "huge.timer");
    REQUIRE(enricher.attach(d));
    const json& timer = d.enrichment["timers"][0];
    CHECK(timer["state"] == "missing");
    CHECK(timer["missing"] == "unreadable");
    REQUIRE(timer["problems"].size() == 1);
    CHECK(timer["problems"][0]["code"] == "fs.too-large");
    CHECK(timer["problems"][0]["path"] == "/etc/systemd/system/huge.timer");
  }

  SECTION("a symlink loop and a FIFO are problems, and the FIFO is never opened") {
    t.symlink("/etc/systemd/system/loop.timer", "/etc/systemd/system/loop2.timer");
    t.symlink("/etc/systemd/system/loop2.timer", "/etc/systemd/system/loop.timer");
    t.write("/etc/systemd/system/fifo.timer", "[Timer]\nOnCalendar=daily\n");
    REQUIRE(::mkfifo(t.host("/etc/systemd/system/fifo.service").c_str(), 0644) == 0);
    auto fresh = BaselineWatch::open(approved, t.root(), options);
    REQUIRE(fresh);
    Enricher e(*fresh);
    core::Detection loop = timer_detection(kMachineId, "loop.timer");
    REQUIRE(e.attach(loop));
    CHECK(loop.enrichment["timers"][0]["missing"] == "unreadable");
    CHECK(loop.enrichment["timers"][0]["problems"][0]["code"] == "fs.symlink-loop");
    core::Detection fifo = timer_detection(kMachineId, "fifo.timer");
    REQUIRE(e.attach(fifo));
    const json& svc = fifo.enrichment["timers"][0]["service"];
    CHECK(svc["missing"] == "unreadable");
    CHECK(fifo.enrichment["timers"][0]["problems"][0]["code"] == "fs.not-regular");
  }

  SECTION("a transient timer has no file") {
    core::Detection d = timer_detection(kMachineId, "run-r3f2a1b.timer", "run-r3f2a1b.service");
    REQUIRE(enricher.attach(d));
    const json expected = {
        {{"unit", "run-r3f2a1b.timer"},
         {"scope", ""},
         {"state", "missing"},
         {"missing", "transient"},
         {"note", "run-r3f2a1b.timer looks like a systemd-run transient unit: it has no file once it stopped"},
         {"baseline", "unknown"},
         {"schedule", json::object()},
         {"files", json::array()},
         {"service",
          {{"unit", "run-r3f2a1b.service"},
           {"scope", ""},
           {"state", "missing"},
           {"missing", "transient"},
           {"note", "run-r3f2a1b.service looks like a systemd-run transient unit: it has no file once it stopped"},
           {"baseline", "unknown"},
           {"exec_start", json::array()},
           {"user", nullptr},
           {"files", json::array()}}},
         {"risks", json::array()},
         {"changes", json::array()},
         {"problems", json::array()}}};
    CHECK(d.enrichment["timers"].dump(2) == expected.dump(2));
  }

  SECTION("detections of other machines, or without a timer, are left alone") {
    core::Detection other = timer_detection("fedcba9876543210fedcba9876543210", "backup.timer");
    CHECK_FALSE(enricher.attach(other));
    CHECK(other.enrichment.is_null());
    CHECK_FALSE(core::to_json(other).contains("enrichment"));
    core::Detection global = timer_detection("", "backup.timer");
    CHECK_FALSE(enricher.attach(global));
    core::Detection no_timer = timer_detection(kMachineId, "backup.service");
    CHECK_FALSE(enricher.attach(no_timer));
    core::Detection hostile = timer_detection(kMachineId, "../../etc/passwd.timer");
    CHECK_FALSE(enricher.attach(hostile));
  }
}

TEST_CASE("an enrichment keeps at most 64 entries per list and counts the rest", "[baseline][enrichment]") {
  TempTree t;
  approved_tree(t);
  for (int i = 0; i < 100; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/etc/systemd/system/backup.service.d/%03d.conf", i);
    write_unit(t, name, "[Service]\nEnvironment=X=1\n", kT0);
  }
  auto watch = BaselineWatch::open(std::nullopt, t.root());
  REQUIRE(watch);
  Enricher enricher(*watch);
  core::Detection d = timer_detection(kMachineId, "backup.timer");
  REQUIRE(enricher.attach(d));
  const json& svc = d.enrichment["timers"][0]["service"];
  CHECK(svc["files"].size() == 64);
  CHECK(svc["files_omitted"] == 37);  // the fragment and 100 drop-ins
  CHECK(svc["files"][1]["path"] == "/etc/systemd/system/backup.service.d/000.conf");
  CHECK_FALSE(d.enrichment["timers"][0].contains("files_omitted"));
}

TEST_CASE("a timer found nowhere while a directory could not be read is unknown, not deleted",
          "[baseline][enrichment]") {
  TempTree t;
  approved_tree(t);
  t.write("/etc/systemd/user", "not a directory\n");  // where a search directory belongs
  auto watch = BaselineWatch::open(std::nullopt, t.root());
  REQUIRE(watch);
  Enricher enricher(*watch);
  core::Detection d = timer_detection(kMachineId, "gone.timer");
  REQUIRE(enricher.attach(d));
  const json& timer = d.enrichment["timers"][0];
  INFO(d.enrichment.dump(2));
  CHECK(timer["state"] == "missing");
  CHECK(timer["missing"] == "unknown");
  CHECK(timer["note"] ==
        "no unit file for gone.timer was found, but /etc/systemd/user could not be read (fs.not-directory): it may be "
        "there");
}

TEST_CASE("timers_of takes every .timer unit name a detection's values hold", "[baseline][enrichment]") {
  core::Detection d;
  d.values["timer"] = "a.timer";
  d.values["commands"] = json::array({"x", "b@1.timer", "a.timer"});
  d.values["service"] = "a.service";
  d.values["bad"] = "/tmp/evil.timer";
  CHECK(timers_of(d) == std::vector<std::string>{"b@1.timer", "a.timer"});
}

TEST_CASE("enrichment without a baseline reports the files and status unknown", "[baseline][enrichment]") {
  TempTree t;
  approved_tree(t);
  auto watch = BaselineWatch::open(std::nullopt, t.root());
  REQUIRE(watch);
  Enricher enricher(*watch);
  core::Detection d = timer_detection(kMachineId, "backup.timer");
  REQUIRE(enricher.attach(d));
  CHECK(d.enrichment["baseline"] == false);
  CHECK(d.enrichment["timers"][0]["baseline"] == "unknown");
  CHECK(d.enrichment["timers"][0]["service"]["exec_start"] == json::array({"/usr/bin/backup --all"}));
  CHECK(d.enrichment["timers"][0]["service"]["user"] == "backup");
  CHECK(d.enrichment["timers"][0]["changes"] == json::array());
}

TEST_CASE("the terminal view shows the enrichment, terminal-safe", "[baseline][enrichment]") {
  TempTree t;
  approved_tree(t);
  // A file name with a terminal escape: the view must show it escaped.
  write_unit(t, "/etc/systemd/system/backup.timer.d/\x1b[2Jx.conf", "[Timer]\nOnCalendar=hourly\n", kT0);
  auto watch = BaselineWatch::open(std::nullopt, t.root());
  REQUIRE(watch);
  Enricher enricher(*watch);
  core::Detection d = timer_detection(kMachineId, "backup.timer");
  d.title = "timer";
  d.severity = "high";
  REQUIRE(enricher.attach(d));
  const std::string view = app::render_detection(d, false);
  INFO(view);
  const std::string expected =
      "  unit      backup.timer (system, loaded; baseline unknown)\n"
      "            /etc/systemd/system/backup.timer  root:root 0644  mtime 2023-11-14T22:13:20Z  sha256 " +
      sha256_hex(kTimer).substr(0, 16) +
      "\n"
      "            /etc/systemd/system/backup.timer.d/\\x1b[2Jx.conf  root:root 0644  mtime 2023-11-14T22:13:20Z  sha256 " +
      sha256_hex("[Timer]\nOnCalendar=hourly\n").substr(0, 16) +
      "\n"
      "  schedule  OnCalendar=daily\n"
      "  schedule  OnCalendar=hourly\n"
      "  schedule  Persistent=true\n"
      "  unit      backup.service (system, loaded; baseline unknown)\n"
      "            /etc/systemd/system/backup.service  root:root 0644  mtime 2023-11-14T22:13:20Z  sha256 " +
      sha256_hex(kService).substr(0, 16) +
      "\n"
      "  runs      /usr/bin/backup --all\n"
      "  as user   backup\n";
  CHECK(view.find(expected) != std::string::npos);
  CHECK(view.find('\x1b') == std::string::npos);
}

}  // namespace jcorr::baseline
