// The daemon's configuration is checked before anything starts: every problem is
// reported at once with the file, line:col, JSON pointer and a stable code, and the
// exit code says "configuration"; rule errors say "rules".
#include <catch2/catch.hpp>

#include "integration/daemon/daemon_test_support.h"

using namespace jcorr::test::daemon;

namespace {

struct CheckRun {
  int rc = -1;
  std::string out;
};

CheckRun check(const std::string& config_path) {
  const std::string out =
      run_capture(std::string(JCORR_BIN) + " run --check --config '" + config_path + "' 2>&1; echo \"rc=$?\"");
  CheckRun r;
  const auto p = out.rfind("rc=");
  r.rc = std::atoi(out.c_str() + p + 3);
  r.out = out.substr(0, p);
  return r;
}

}  // namespace

TEST_CASE("daemon config: every mistake reported with file, pointer and code", "[daemon][config]") {
  TempDir tmp;
  const std::string path = tmp.path + "/bad.json";
  spit(path, R"({
  "follow": {"directory": "j", "namespace": "x"},
  "metrics": {"listen": "0.0.0.0:9465"},
  "watermark": {"lateness": "soon"},
  "caps": {"partials_per_rule": -1, "regex_bytes": 1000},
  "start_at": "middle",
  "output": {}
})");
  const auto r = check(path);
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find(path + ":2:13:/follow") != std::string::npos);
  CHECK(r.out.find("/metrics/listen") != std::string::npos);
  CHECK(r.out.find("config.metrics.not_loopback") != std::string::npos);
  CHECK(r.out.find("/watermark/lateness") != std::string::npos);
  CHECK(r.out.find("/caps/partials_per_rule") != std::string::npos);
  CHECK(r.out.find("/caps/regex_bytes") != std::string::npos);
  CHECK(r.out.find("/start_at") != std::string::npos);
  CHECK(r.out.find("/output") != std::string::npos);
  CHECK(r.out.find("config.key.unknown") != std::string::npos);
  CHECK(count_of(r.out, "config.") >= 6);
}

TEST_CASE("daemon config: syntax errors carry line and column", "[daemon][config]") {
  TempDir tmp;
  const std::string path = tmp.path + "/syntax.json";
  spit(path, "{\n  \"follow\": \"local\",\n  \"start_at\": tail\n}\n");
  const auto r = check(path);
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find(path + ":3:") != std::string::npos);
  CHECK(r.out.find("config.json.syntax") != std::string::npos);
  CHECK(r.out.find("json.exception") == std::string::npos);  // the reason, not the library's prefix
}

TEST_CASE("daemon config: a number too large for a double is a diagnostic, not an internal error",
          "[daemon][config]") {
  TempDir tmp;
  const std::string path = tmp.path + "/overflow.json";
  spit(path, R"({"follow": "local", "checkpoint_interval": 1e400})");
  const auto r = check(path);
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("config.json.syntax: number overflow parsing '1e400'") != std::string::npos);
  CHECK(r.out.find("internal error") == std::string::npos);
}

TEST_CASE("daemon config: a valid file with broken rules exits with the rules code", "[daemon][config]") {
  TempDir tmp;
  spit(tmp.path + "/rules.json", "{\"rules\": [{\"id\": \"r\"}]}");
  spit(tmp.path + "/ok.json", R"({"rules": "rules.json", "follow": {"directory": "."}})");
  const auto r = check(tmp.path + "/ok.json");
  INFO(r.out);
  CHECK(r.rc == 3);
  CHECK(r.out.find("rules.json") != std::string::npos);
}

TEST_CASE("daemon config: caps.regex_bytes is the rules' regex budget", "[daemon][config][bounds]") {
  TempDir tmp;
  // About 100 KiB of RE2 program: within the default budget (8 MiB), not within 64 KiB.
  spit(tmp.path + "/rules.json", R"({"id": "r", "title": "t", "severity": "low",
    "events": {"e": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "\\pL{20}"}}}},
    "correlate": {"sequence": ["e"]}})");
  spit(tmp.path + "/default.json", R"({"rules": "rules.json", "follow": {"directory": "."}})");
  spit(tmp.path + "/tight.json",
       R"({"rules": "rules.json", "follow": {"directory": "."}, "caps": {"regex_bytes": 65536}})");
  const auto ok = check(tmp.path + "/default.json");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  const auto tight = check(tmp.path + "/tight.json");
  INFO(tight.out);
  CHECK(tight.rc == 3);
  CHECK(tight.out.find("rule.regex.too_large") != std::string::npos);
}

TEST_CASE("daemon config: a missing file and a missing --config", "[daemon][config]") {
  const auto r = check("/nonexistent/jcorr.json");
  CHECK(r.rc == 2);
  CHECK(r.out.find("config.file.unreadable") != std::string::npos);
  const std::string out = run_capture(std::string(JCORR_BIN) + " run 2>&1; echo rc=$?");
  CHECK(out.find("--config FILE is required") != std::string::npos);
  CHECK(out.find("rc=2") != std::string::npos);
}
