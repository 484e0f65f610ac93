// Baseline lists in rules: {"baseline": SELECTOR} lists built from a real unit tree and
// an approved baseline, through the core loader's baseline_list hook, checked exactly;
// the diagnostics when no baseline was given; rescans bounded by the watch's interval.
#include <catch2/catch.hpp>

#include <chrono>

#include "jcorr/baseline/baseline_watch.h"
#include "jcorr/baseline/scanner.h"
#include "jcorr/core/rule_loader.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using testing::TempTree;

namespace {

constexpr long kT0 = 1700000000;
constexpr const char* kMachineId = "0123456789abcdef0123456789abcdef";

void write_unit(const TempTree& t, std::string_view path, std::string_view content, long mtime) {
  t.write(path, content);
  t.set_mtime(path, mtime);
}

// The approved system: backup.timer/.service and report.timer/.service.
void approved_tree(const TempTree& t) {
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.write("/etc/group", "root:x:0:\n");
  t.write("/etc/machine-id", std::string(kMachineId) + "\n");
  write_unit(t, "/etc/systemd/system/backup.timer", "[Timer]\nOnCalendar=daily\n", kT0);
  write_unit(t, "/etc/systemd/system/backup.service", "[Service]\nExecStart=/usr/bin/backup\n", kT0);
  write_unit(t, "/etc/systemd/system/report.timer", "[Timer]\nOnCalendar=weekly\nUnit=report-run.service\n", kT0);
  write_unit(t, "/etc/systemd/system/report-run.service", "[Service]\nExecStart=/usr/bin/report\n", kT0);
}

// A rule file with one list per selector and a rule that uses every one of them.
const char* kRules = R"({
  "lists": {
    "approved-timers": {"baseline": "timers", "description": "timers the baseline records"},
    "approved-services": {"baseline": "services"},
    "new-units": {"baseline": "new"},
    "changed-units": {"baseline": "changed"},
    "drifted-units": {"baseline": "drifted"},
    "this-host": {"baseline": "machine-id"}
  },
  "rules": [{
    "id": "uses-baseline", "title": "t", "severity": "low",
    "events": {"start": {"where": {"_PID": "1", "UNIT": {"not": {"in_list": "approved-timers"}},
                                   "_MACHINE_ID": {"in_list": "this-host"}},
                         "capture": {"unit": "UNIT"}}},
    "correlate": {"sequence": ["start"],
                  "where": {"any": [{"start.unit": {"in_list": "drifted-units"}}, {"start.unit": {"in_list": "new-units"}},
                                    {"start.unit": {"in_list": "changed-units"}}, {"start.unit": {"in_list": "approved-services"}}]}}
  }]
})";

struct Loaded {
  std::unique_ptr<core::RuleSet> set;
  std::vector<core::Diagnostic> diagnostics;
};

Loaded load(const char* text, std::shared_ptr<BaselineWatch> watch) {
  core::LoadOptions options;
  if (watch) options.baseline_list = BaselineWatch::list_provider(std::move(watch));
  core::RuleLoader loader(options);
  loader.add(text, "baseline-rules.json");
  Loaded l;
  l.set = loader.finish();
  l.diagnostics = loader.diagnostics();
  return l;
}

}  // namespace

TEST_CASE("baseline lists hold what the baseline records and how the files drifted", "[baseline][lists]") {
  TempTree t;
  approved_tree(t);
  const Baseline approved = scan(t.root());
  // After the baseline: backup.service runs something else (so backup.timer changed
  // through it), evil.timer and evil.service appeared, report.timer is untouched.
  write_unit(t, "/etc/systemd/system/backup.service", "[Service]\nExecStart=/dev/shm/.b\n", kT0 + 60);
  write_unit(t, "/etc/systemd/system/evil.timer", "[Timer]\nOnCalendar=minutely\n", kT0 + 60);
  write_unit(t, "/etc/systemd/system/evil.service", "[Service]\nExecStart=/tmp/x\n", kT0 + 60);

  auto watch = BaselineWatch::open(approved, t.root());
  REQUIRE(watch);
  const auto loaded = load(kRules, *watch);
  REQUIRE(loaded.diagnostics.empty());
  REQUIRE(loaded.set->rules.size() == 1);

  struct Case {
    const char* list;
    const char* value;
    bool in;
  };
  const Case cases[] = {
      {"approved-timers", "backup.timer", true},       {"approved-timers", "report.timer", true},
      {"approved-timers", "evil.timer", false},        {"approved-timers", "backup.service", false},
      {"approved-services", "backup.service", true},   {"approved-services", "report-run.service", true},
      {"approved-services", "report.service", false},  {"approved-services", "evil.service", false},
      {"new-units", "evil.timer", true},               {"new-units", "evil.service", true},
      {"new-units", "backup.timer", false},            {"new-units", "report.timer", false},
      {"changed-units", "backup.service", true},       {"changed-units", "backup.timer", true},
      {"changed-units", "report.timer", false},        {"changed-units", "evil.timer", false},
      {"changed-units", "report-run.service", false},  {"drifted-units", "evil.timer", true},
      {"drifted-units", "backup.timer", true},         {"drifted-units", "report.timer", false},
      {"drifted-units", "", false},                    {"this-host", kMachineId, true},
      {"this-host", "fedcba9876543210fedcba9876543210", false},
      {"this-host", "", false},
  };
  for (const auto& c : cases) {
    INFO(c.list << " " << c.value);
    CHECK(loaded.set->lists.at(c.list)->contains(c.value) == c.in);
  }
  CHECK((*watch)->status("system", "backup.timer") == UnitStatus::kChanged);
  CHECK((*watch)->status("system", "backup.service") == UnitStatus::kChanged);
  CHECK((*watch)->status("system", "evil.timer") == UnitStatus::kNew);
  CHECK((*watch)->status("system", "report.timer") == UnitStatus::kApproved);
  CHECK((*watch)->status("system", "gone.timer") == UnitStatus::kUnknown);
}

TEST_CASE("a rule needing a baseline that was not given is left out with a warning", "[baseline][lists]") {
  const auto loaded = load(kRules, nullptr);
  CHECK(loaded.set->rules.empty());
  CHECK_FALSE(core::has_errors(loaded.diagnostics));
  std::vector<std::string> got;
  for (const auto& d : loaded.diagnostics) got.push_back(d.to_string());
  // Lists are reported in name order (JSON objects are read as maps), then each use.
  auto list_warning = [](const char* at, const char* name) {
    return std::string("baseline-rules.json:") + at + ":/lists/" + name +
           "/baseline warning rule.baseline.missing: list \"" + name +
           "\" comes from a baseline and none was given (jcorr replay --baseline FILE; daemon: \"baseline\": "
           "{\"file\": ...}); the rules using it are left out";
  };
  auto use_warning = [](const char* at, const char* pointer, const char* name) {
    return std::string("baseline-rules.json:") + at + ":" + pointer +
           " [uses-baseline] warning rule.baseline.missing: list \"" + name +
           "\" is not available (see the list); the rule is left out";
  };
  const std::vector<std::string> expected = {
      list_warning("4:39", "approved-services"),
      list_warning("3:37", "approved-timers"),
      list_warning("6:35", "changed-units"),
      list_warning("7:35", "drifted-units"),
      list_warning("5:31", "new-units"),
      list_warning("8:31", "this-host"),
      use_warning("12:77", "/rules/0/events/start/where/UNIT/not/in_list", "approved-timers"),
      use_warning("13:63", "/rules/0/events/start/where/_MACHINE_ID/in_list", "this-host"),
      use_warning("16:64", "/rules/0/correlate/where/any/0/start.unit/in_list", "drifted-units"),
      use_warning("16:110", "/rules/0/correlate/where/any/1/start.unit/in_list", "new-units"),
      use_warning("17:64", "/rules/0/correlate/where/any/2/start.unit/in_list", "changed-units"),
      use_warning("17:110", "/rules/0/correlate/where/any/3/start.unit/in_list", "approved-services"),
  };
  CHECK(got == expected);
}

TEST_CASE("baseline list mistakes are errors, lists a watch cannot build are warnings", "[baseline][lists]") {
  TempTree t;
  approved_tree(t);
  auto baseline_only = BaselineWatch::open(scan(t.root()), std::nullopt);
  REQUIRE(baseline_only);
  struct Case {
    const char* lists;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"a": {"baseline": "timer"}})",
       "x.json:1:30:/lists/a/baseline error rule.value.invalid: unknown baseline selector \"timer\" (timers, services, "
       "new, changed, drifted, machine-id)"},
      {R"({"a": {"baseline": 1}})", "x.json:1:30:/lists/a/baseline error rule.type.mismatch: \"baseline\" names what to take from the baseline"},
      {R"({"a": {"baseline": "timers", "values": ["x"]}})",
       "x.json:1:30:/lists/a/baseline error rule.value.invalid: a baseline list takes no \"values\", \"file\" or \"match\""},
      {R"({"a": {"baseline": "changed"}})",
       "x.json:1:30:/lists/a/baseline warning rule.baseline.missing: list \"a\" is unavailable: the \"changed\" list "
       "compares the host's unit files with a baseline: it needs both (--baseline and --host-root); the rules using it "
       "are left out"},
      {R"({"a": {"baseline": "machine-id"}})",
       "x.json:1:30:/lists/a/baseline warning rule.baseline.missing: list \"a\" is unavailable: the \"machine-id\" "
       "list needs the host's files (--host-root); the rules using it are left out"},
  };
  for (const auto& c : cases) {
    INFO(c.lists);
    core::LoadOptions options;
    options.baseline_list = BaselineWatch::list_provider(*baseline_only);
    core::RuleLoader loader(options);
    loader.add(std::string(R"({"lists": )") + c.lists + R"(, "rules": []})", "x.json");
    loader.finish();
    REQUIRE(loader.diagnostics().size() == 1);
    CHECK(loader.diagnostics()[0].to_string() == c.expected);
  }
}

TEST_CASE("a watch rescans at most once per interval, and a replay watch only once", "[baseline][lists]") {
  TempTree t;
  approved_tree(t);
  const Baseline approved = scan(t.root());
  auto now = std::chrono::steady_clock::time_point{};
  WatchOptions options;
  options.min_rescan = std::chrono::milliseconds(100);
  auto watch = BaselineWatch::open(approved, t.root(), options, [&] { return now; });
  REQUIRE(watch);
  const auto changed = (*watch)->list("changed").test;
  REQUIRE(changed);
  CHECK_FALSE(changed("backup.timer"));
  CHECK((*watch)->scans() == 1);

  write_unit(t, "/etc/systemd/system/backup.timer", "[Timer]\nOnCalendar=minutely\n", kT0 + 5);
  now += std::chrono::milliseconds(99);
  CHECK_FALSE(changed("backup.timer"));  // within the interval: the last scan answers
  CHECK((*watch)->scans() == 1);
  now += std::chrono::milliseconds(1);
  CHECK(changed("backup.timer"));
  CHECK((*watch)->scans() == 2);
  for (int i = 0; i < 1000; ++i) changed("backup.timer");  // a flood of lookups costs no scan
  CHECK((*watch)->scans() == 2);

  WatchOptions once;
  once.scan_once = true;
  auto replay = BaselineWatch::open(approved, t.root(), once, [&] { return now; });
  REQUIRE(replay);
  const auto drifted = (*replay)->list("drifted").test;
  REQUIRE(drifted);
  CHECK(drifted("backup.timer"));
  now += std::chrono::hours(1);
  std::filesystem::remove(t.host("/etc/systemd/system/backup.timer"));
  CHECK(drifted("backup.timer"));
  CHECK((*replay)->scans() == 1);
}

}  // namespace jcorr::baseline
