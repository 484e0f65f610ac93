// `jcorr replay --webhook` end to end: the binary against a sample journal and a real
// receiver; killed with detections in the spool and started again, it delivers them.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include "webhook/webhook_test_support.h"

using namespace jcorr::test::webhook;

namespace {

const std::string kJournal = std::string(JCORR_SOURCE_DIR) + "/sample-journals/two-attackers/journal.export";
const std::string kBenign = std::string(JCORR_SOURCE_DIR) + "/sample-journals/benign-boot/journal.export";
const std::string kRules = std::string(JCORR_SOURCE_DIR) + "/rules";

std::string write_secret(const std::string& dir) {
  spit(dir + "/secret", "replay-secret\n");
  ::chmod((dir + "/secret").c_str(), 0600);
  return dir + "/secret";
}

std::string write_config(const std::string& dir, std::uint16_t port) {
  write_secret(dir);
  const std::string path = dir + "/webhooks.json";
  spit(path, R"({"webhooks": [{"name": "siem", "url": "http://127.0.0.1:)" + std::to_string(port) +
                 R"(/ingest", "spool_dir": "spool", "secret_file": "secret", "connect_timeout": "500ms",
                 "backoff": {"base": "100ms", "max": "500ms"}}]})");
  return path;
}

std::set<std::string> ids_in_jsonl(const std::string& text) {
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) ids.insert(json::parse(line)["id"].get<std::string>());
  return ids;
}

std::set<std::string> spooled(const std::string& dir) {
  std::set<std::string> keys;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") keys.insert(e.path().stem().string());
  return keys;
}

// Kills a child the test did not get to end (a failed REQUIRE), so none outlives it.
struct KillOnExit {
  pid_t pid;
  ~KillOnExit() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      (void)wait_exit(pid);
    }
  }
};

}  // namespace

TEST_CASE("replay --webhook delivers the detections it prints", "[webhook][replay]") {
  TempDir t;
  Receiver rx(t.path, {"--secret-file", write_secret(t.path)});
  const std::string config = write_config(t.path, rx.port());
  const pid_t pid = spawn({JCORR_BIN, "replay", "--rules", kRules, "--webhook", config, "--webhook-wait", "10s",
                           "--output", "json", kJournal},
                          t.path + "/out", t.path + "/err");
  const int rc = wait_exit(pid);
  INFO(slurp(t.path + "/err"));
  REQUIRE(rc == 0);
  const auto printed = ids_in_jsonl(slurp(t.path + "/out"));
  CHECK(printed.size() == 2);
  CHECK(rx.delivered_ids() == printed);
  for (const auto& r : rx.requests()) CHECK(r["signature_ok"] == true);
  CHECK_THAT(slurp(t.path + "/err"), Catch::Contains("webhook siem: 2 delivered"));
  CHECK(spooled(t.path + "/spool").empty());
}

TEST_CASE("replay --webhook killed with detections in the spool delivers them when started again", "[webhook][replay]") {
  TempDir t;
  const std::uint16_t port = free_port();  // the receiver is down at first
  const std::string config = write_config(t.path, port);
  const pid_t pid = spawn({JCORR_BIN, "replay", "--rules", kRules, "--webhook", config, "--webhook-wait", "60s",
                           "--output", "json", kJournal},
                          t.path + "/out1", t.path + "/err1");
  KillOnExit guard{pid};
  const bool spooled_both = eventually([&] { return spooled(t.path + "/spool").size() == 2; }, 10s);
  INFO(slurp(t.path + "/err1"));
  REQUIRE(spooled_both);
  ::kill(pid, SIGKILL);  // no chance to clean up
  guard.pid = -1;
  CHECK(wait_exit(pid) == 128 + SIGKILL);
  const auto left = spooled(t.path + "/spool");
  REQUIRE(left.size() == 2);

  // Started again over a journal with no detections: what it delivers came from the spool.
  Receiver rx(t.path, {"--secret-file", t.path + "/secret"}, port);
  const pid_t again = spawn({JCORR_BIN, "replay", "--rules", kRules, "--webhook", config, "--webhook-wait", "10s",
                             "--output", "json", kBenign},
                            t.path + "/out2", t.path + "/err2");
  const int rc = wait_exit(again);
  const std::string err2 = slurp(t.path + "/err2");
  INFO(err2);
  REQUIRE(rc == 0);
  CHECK(slurp(t.path + "/out2").empty());
  CHECK(rx.delivered_ids() == left);
  CHECK_THAT(err2, Catch::Contains("from an earlier run"));
  CHECK(spooled(t.path + "/spool").empty());
  // The same detections as a replay of the journal prints.
  const pid_t plain = spawn({JCORR_BIN, "replay", "--rules", kRules, "--output", "json", kJournal}, t.path + "/out3",
                            t.path + "/err3");
  REQUIRE(wait_exit(plain) == 0);
  CHECK(ids_in_jsonl(slurp(t.path + "/out3")) == left);
}

TEST_CASE("replay --webhook reports what is still spooled when the wait runs out", "[webhook][replay]") {
  TempDir t;
  const std::string config = write_config(t.path, free_port());
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = spawn({JCORR_BIN, "replay", "--rules", kRules, "--webhook", config, "--webhook-wait", "1s",
                           "--output", "json", kJournal},
                          t.path + "/out", t.path + "/err");
  const int rc = wait_exit(pid);
  const auto took = std::chrono::steady_clock::now() - start;
  const std::string err = slurp(t.path + "/err");
  INFO(err);
  CHECK(rc == 0);
  CHECK(took < 8s);
  CHECK_THAT(err, Catch::Contains("2 still spooled in"));
  CHECK(spooled(t.path + "/spool").size() == 2);
}

TEST_CASE("replay --webhook with a bad configuration runs nothing", "[webhook][replay]") {
  TempDir t;
  spit(t.path + "/bad.json", R"({"webhooks": [{"name": "x", "url": "ftp://h/", "spool_dir": "s", "secret": "inline"}]})");
  const pid_t pid = spawn({JCORR_BIN, "replay", "--rules", kRules, "--webhook", t.path + "/bad.json", kJournal},
                          t.path + "/out", t.path + "/err");
  const int rc = wait_exit(pid);
  const std::string err = slurp(t.path + "/err");
  INFO(err);
  CHECK(rc == 2);
  CHECK_THAT(err, Catch::Contains("/webhooks/0/url"));
  CHECK_THAT(err, Catch::Contains("webhook.secret.inline"));
  CHECK(slurp(t.path + "/out").empty());
}
