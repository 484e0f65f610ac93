// `jcorr baseline …` end to end: arguments, output formats and exit codes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "jcorr/baseline/baseline.h"
#include "jcorr/baseline/baseline_command.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using testing::TempTree;

namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run run(const std::vector<std::string>& args, bool tty = false) {
  std::ostringstream out;
  std::ostringstream err;
  Run r;
  r.status = baseline_command(args, out, err, tty);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace

TEST_CASE("baseline command: help and usage errors", "[baseline][cli]") {
  const Run help = run({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("jcorr baseline diff BASELINE.json [--root DIR]") != std::string::npos);
  CHECK(help.out.find("exec.download-and-run") != std::string::npos);
  CHECK(run({"diff", "--help"}).status == 0);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"bogus"},
                                             {"scan", "--bogus"},
                                             {"scan", "extra"},
                                             {"scan", "--root"},
                                             {"diff"},
                                             {"diff", "a.json", "b.json"},
                                             {"diff", "a.json", "--format", "xml"}}) {
    const Run r = run(args);
    CHECK(r.status == 2);
    CHECK(r.err.find("Try 'jcorr baseline --help'") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("baseline command: scan and diff", "[baseline][cli]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.write("/etc/systemd/system/a.timer", "[Timer]\nOnCalendar=daily\n");
  t.write("/etc/systemd/system/a.service", "[Service]\nExecStart=/usr/bin/true\n");
  TempTree store;
  const std::string baseline_path = store.host("/baseline.json").string();

  const Run scanned = run({"scan", "--root", t.root().string()});
  REQUIRE(scanned.status == 0);
  const auto parsed = parse_baseline(scanned.out);
  REQUIRE(parsed);
  CHECK(parsed->units.size() == 2);
  std::ofstream(baseline_path) << scanned.out;

  SECTION("no drift: status 0") {
    const Run r = run({"diff", baseline_path, "--root=" + t.root().string()});
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    const Run text = run({"diff", baseline_path, "--root", t.root().string()}, true);
    CHECK(text.status == 0);
    CHECK(text.out == "No drift: every timer and service matches the baseline.\n");
  }
  SECTION("drift: status 1, JSON lines when not a terminal") {
    t.write("/etc/systemd/system/b.timer", "[Timer]\nOnCalendar=*:*:*\n");
    const Run r = run({"diff", baseline_path, "--root", t.root().string()});
    CHECK(r.status == 1);
    std::istringstream lines(r.out);
    std::vector<std::string> kinds;
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line);
      kinds.push_back(j.at("drift").get<std::string>() + " " + j.at("name").get<std::string>());
    }
    CHECK(kinds == std::vector<std::string>{"new b.service", "new b.timer"});
    const Run text = run({"diff", baseline_path, "--root", t.root().string()}, true);
    CHECK(text.status == 1);
    CHECK(text.out.starts_with("Drift from the baseline: 2 new, 0 changed, 0 removed\n"));
    const Run json = run({"diff", baseline_path, "--root", t.root().string(), "--format", "json"}, true);
    CHECK(json.status == 1);
    CHECK(nlohmann::json::parse(json.out).at("new").size() == 2);
  }
  SECTION("unusable inputs: status 2") {
    CHECK(run({"scan", "--root", t.host("/missing").string()}).status == 2);
    CHECK(run({"diff", store.host("/missing.json").string(), "--root", t.root().string()}).status == 2);
    std::ofstream(baseline_path) << R"({"schema":"jcorr-baseline","version":9})";
    const Run r = run({"diff", baseline_path, "--root", t.root().string()});
    CHECK(r.status == 2);
    CHECK(r.err.find("version 9 is not supported") != std::string::npos);
  }
}

}  // namespace jcorr::baseline
