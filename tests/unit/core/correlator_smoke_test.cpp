#include "core_test_util.h"

using namespace jcorr;
using test::Entry;

TEST_CASE("correlator: two-step sequence with a join fires once", "[correlator]") {
  auto set = test::load_ok(R"J({
    "id": "r1", "title": "t", "severity": "high",
    "events": {
      "login": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "^Accepted \\S+ for (?P<user>\\S+)"}}},
      "cmd":   {"where": {"_COMM": "sudo", "MESSAGE": {"regex": "^\\s*(?P<user>\\S+) : "}}}
    },
    "correlate": {"sequence": ["login", {"event": "cmd", "join": {"user": "login.user"}}], "within": "10m"},
    "values": {"user": "login.user"},
    "summary": "{login.user} used sudo"
  })J");
  auto out = test::run(*set, {
      {0, {{"_COMM", "sshd"}, {"MESSAGE", "Accepted password for alice from 1.2.3.4 port 22 ssh2"}}},
      {5, {{"_COMM", "sudo"}, {"MESSAGE", "   bob : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls"}}},
      {9, {{"_COMM", "sudo"}, {"MESSAGE", " alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls"}}},
  });
  REQUIRE(out.size() == 1);
  CHECK(out[0].summary == "alice used sudo");
  CHECK(out[0].values["user"] == "alice");
  CHECK(out[0].evidence.size() == 2);
  CHECK(out[0].id.size() == 32);
}
