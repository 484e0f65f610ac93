// Matcher: every condition operator on present, absent and repeated fields, captures,
// and the router's index. Each case that matches has a near miss that must not.
#include <optional>
#include <string>
#include <vector>

#include "core_test_util.h"
#include "jcorr/core/matcher.h"

using namespace jcorr;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

const std::string kLists = R"J({
  "admins": ["root", "alice"],
  "pkg-tools": {"match": "prefix", "values": ["/usr/bin/apt", "/usr/bin/dpkg"]},
  "known-timers": {"match": "regex", "values": ["run-[0-9a-f]+\\.timer", "apt-daily(-upgrade)?\\.timer"]}
})J";

// One rule with one event "e" (where, capture) over the shared lists.
std::unique_ptr<core::RuleSet> event_rule(const std::string& where, const std::string& capture = "") {
  const std::string text = R"({"lists":)" + kLists + R"(,"rules":[{"id":"r","title":"t","severity":"low","events":{"e":{"where":)" +
                           where + (capture.empty() ? "" : R"(,"capture":)" + capture) +
                           R"(}},"correlate":{"sequence":["e"]}}]})";
  return test::load_ok(text);
}

// Builds an entry as a source would: only the fields the rules use are projected.
core::Event entry(const core::RuleSet& set, const Fields& fields) {
  core::Event ev;
  ev.realtime_us = test::kEpoch;
  ev.cursor = "s=0;i=1;b=boot;m=1;t=1;x=1";
  for (const auto& [k, v] : fields)
    if (auto id = set.schema.find(k)) ev.add(*id, v);
  return ev;
}

// The captures of event "e" when the entry matches it, nullopt when it does not.
std::optional<core::Captures> match(const core::RuleSet& set, const Fields& fields, std::size_t limit = 1024) {
  core::Matcher m(set, limit);
  std::vector<core::EventMatch> out;
  m.match(entry(set, fields), out);
  if (out.empty()) return std::nullopt;
  REQUIRE(out.size() == 1);
  return out[0].captures;
}

// The captured value, or "<none>".
std::string cap(const core::Captures& c, std::string_view name) {
  const std::string* v = c.find(name);
  return v ? *v : std::string("<none>");
}

struct OpCase {
  const char* name;
  std::string where;
  Fields hit;   // must match
  Fields miss;  // the near miss: must not
};

}  // namespace

TEST_CASE("matcher: every operator, with a near miss", "[matcher]") {
  const std::vector<OpCase> cases = {
      {"eq shorthand", R"({"_COMM":"sshd"})", {{"_COMM", "sshd"}}, {{"_COMM", "sshd-session"}}},
      {"eq is exact, not a prefix", R"({"_COMM":{"eq":"sshd"}})", {{"_COMM", "sshd"}}, {{"_COMM", "sshd "}}},
      {"eq on an absent field", R"({"_COMM":"sshd"})", {{"_COMM", "sshd"}}, {{"_EXE", "sshd"}}},
      {"in shorthand", R"({"_COMM":["sshd","sshd-session"]})", {{"_COMM", "sshd-session"}}, {{"_COMM", "sshd-sessio"}}},
      {"in with many values",
       R"({"_COMM":{"in":["a1","a2","a3","a4","a5","a6","a7","a8","a9","a10","sudo"]}})", {{"_COMM", "sudo"}},
       {{"_COMM", "a11"}}},
      {"prefix", R"({"_COMM":"systemd","UNIT":{"prefix":"run-"}})", {{"_COMM", "systemd"}, {"UNIT", "run-r1.timer"}},
       {{"_COMM", "systemd"}, {"UNIT", "xrun-r1.timer"}}},
      {"prefix, any of several", R"({"_COMM":"systemd","UNIT":{"prefix":["run-","tmp-"]}})",
       {{"_COMM", "systemd"}, {"UNIT", "tmp-1.timer"}}, {{"_COMM", "systemd"}, {"UNIT", "var-1.timer"}}},
      {"suffix", R"({"_COMM":"systemd","UNIT":{"suffix":".timer"}})", {{"_COMM", "systemd"}, {"UNIT", "x.timer"}},
       {{"_COMM", "systemd"}, {"UNIT", "x.timer.bak"}}},
      {"contains", R"({"_COMM":"sudo","MESSAGE":{"contains":"COMMAND=/usr/bin/systemctl"}})",
       {{"_COMM", "sudo"}, {"MESSAGE", "alice : TTY=pts/0 ; COMMAND=/usr/bin/systemctl enable x.timer"}},
       {{"_COMM", "sudo"}, {"MESSAGE", "alice : TTY=pts/0 ; COMMAND=/usr/bin/systemd-run"}}},
      {"regex is unanchored unless anchored", R"({"_COMM":"sshd","MESSAGE":{"regex":"Accepted \\S+ for"}})",
       {{"_COMM", "sshd"}, {"MESSAGE", "x: Accepted password for bob"}}, {{"_COMM", "sshd"}, {"MESSAGE", "Accepted for bob"}}},
      {"anchored regex", R"({"_COMM":"sshd","MESSAGE":{"regex":"^Accepted"}})", {{"_COMM", "sshd"}, {"MESSAGE", "Accepted x"}},
       {{"_COMM", "sshd"}, {"MESSAGE", " Accepted x"}}},
      {"gt", R"({"_COMM":"a","_UID":{"gt":1000}})", {{"_COMM", "a"}, {"_UID", "1001"}}, {{"_COMM", "a"}, {"_UID", "1000"}}},
      {"ge", R"({"_COMM":"a","_UID":{"ge":1000}})", {{"_COMM", "a"}, {"_UID", "1000"}}, {{"_COMM", "a"}, {"_UID", "999"}}},
      {"lt", R"({"_COMM":"a","_UID":{"lt":1000}})", {{"_COMM", "a"}, {"_UID", "999"}}, {{"_COMM", "a"}, {"_UID", "1000"}}},
      {"le", R"({"_COMM":"a","_UID":{"le":1000}})", {{"_COMM", "a"}, {"_UID", "1000"}}, {{"_COMM", "a"}, {"_UID", "1001"}}},
      {"numbers compare as numbers, not text", R"({"_COMM":"a","_UID":{"gt":999}})", {{"_COMM", "a"}, {"_UID", "1000"}},
       {{"_COMM", "a"}, {"_UID", "99"}}},
      {"fractions and negatives", R"({"_COMM":"a","X":{"lt":0.5}})", {{"_COMM", "a"}, {"X", "-2"}}, {{"_COMM", "a"}, {"X", "0.5"}}},
      {"a non-number never compares", R"({"_COMM":"a","_UID":{"ge":0}})", {{"_COMM", "a"}, {"_UID", "0"}},
       {{"_COMM", "a"}, {"_UID", "0x10"}}},
      {"a number with trailing text never compares", R"({"_COMM":"a","_UID":{"ge":0}})", {{"_COMM", "a"}, {"_UID", " 7"}},
       {{"_COMM", "a"}, {"_UID", "7 "}}},
      {"two operators are ANDed", R"({"_COMM":"a","_UID":{"ge":1000,"lt":60000}})", {{"_COMM", "a"}, {"_UID", "1000"}},
       {{"_COMM", "a"}, {"_UID", "65534"}}},
      {"exists true", R"({"_COMM":"a","SESSION_ID":{"exists":true}})", {{"_COMM", "a"}, {"SESSION_ID", ""}}, {{"_COMM", "a"}}},
      {"exists false", R"({"_COMM":"a","_AUDIT_SESSION":{"exists":false}})", {{"_COMM", "a"}},
       {{"_COMM", "a"}, {"_AUDIT_SESSION", "4294967295"}}},
      {"in_list, exact", R"({"_COMM":"sudo","USER":{"in_list":"admins"}})", {{"_COMM", "sudo"}, {"USER", "alice"}},
       {{"_COMM", "sudo"}, {"USER", "alic"}}},
      {"in_list, prefix", R"({"_COMM":"sudo","CMD":{"in_list":"pkg-tools"}})", {{"_COMM", "sudo"}, {"CMD", "/usr/bin/apt-get install x"}},
       {{"_COMM", "sudo"}, {"CMD", "/bin/apt install x"}}},
      {"in_list, regex entries match the whole value", R"({"_COMM":"systemd","UNIT":{"in_list":"known-timers"}})",
       {{"_COMM", "systemd"}, {"UNIT", "run-4f2a.timer"}}, {{"_COMM", "systemd"}, {"UNIT", "run-4f2a.timer.d"}}},
      {"in_list, regex alternatives", R"({"_COMM":"systemd","UNIT":{"in_list":"known-timers"}})",
       {{"_COMM", "systemd"}, {"UNIT", "apt-daily-upgrade.timer"}}, {{"_COMM", "systemd"}, {"UNIT", "apt-weekly.timer"}}},
      {"not over a condition", R"({"_COMM":"sshd","not":{"MESSAGE":{"prefix":"Failed"}}})",
       {{"_COMM", "sshd"}, {"MESSAGE", "Accepted publickey"}}, {{"_COMM", "sshd"}, {"MESSAGE", "Failed password"}}},
      {"not on a field", R"({"_COMM":"systemd","UNIT":{"suffix":".timer","not":{"prefix":"apt-"}}})",
       {{"_COMM", "systemd"}, {"UNIT", "evil.timer"}}, {{"_COMM", "systemd"}, {"UNIT", "apt-daily.timer"}}},
      {"not on a field alone", R"({"_COMM":{"not":"sshd"},"_UID":"0"})", {{"_COMM", "bash"}, {"_UID", "0"}},
       {{"_COMM", "sshd"}, {"_UID", "0"}}},
      {"not holds for an absent field", R"({"_UID":"0","not":{"_COMM":"sshd"}})", {{"_UID", "0"}}, {{"_UID", "0"}, {"_COMM", "sshd"}}},
      {"any of alternatives", R"({"any":[{"_COMM":"sudo"},{"all":[{"_COMM":"su"},{"_UID":"0"}]}]})",
       {{"_COMM", "su"}, {"_UID", "0"}}, {{"_COMM", "su"}, {"_UID", "1000"}}},
      {"all inside any inside all", R"({"_TRANSPORT":"syslog","any":[{"all":[{"_COMM":"sshd"},{"MESSAGE":{"prefix":"Accepted"}}]},{"_COMM":"login"}]})",
       {{"_TRANSPORT", "syslog"}, {"_COMM", "sshd"}, {"MESSAGE", "Accepted x"}},
       {{"_TRANSPORT", "syslog"}, {"_COMM", "sshd"}, {"MESSAGE", "Failed x"}}},
      {"numeric shorthand", R"({"_PID":1})", {{"_PID", "1"}}, {{"_PID", "10"}}},
      {"numeric values in a list", R"({"_UID":[0,1000]})", {{"_UID", "1000"}}, {{"_UID", "100"}}},
      {"repeated field: any value satisfies", R"({"_COMM":"a","TAG":"b"})", {{"_COMM", "a"}, {"TAG", "a"}, {"TAG", "b"}},
       {{"_COMM", "a"}, {"TAG", "a"}, {"TAG", "c"}}},
      {"repeated field: regex on any value", R"({"_COMM":"a","TAG":{"regex":"^x+$"}})", {{"_COMM", "a"}, {"TAG", "y"}, {"TAG", "xx"}},
       {{"_COMM", "a"}, {"TAG", "y"}, {"TAG", "xy"}}},
      {"repeated field: not means no value", R"({"_COMM":"a","TAG":{"not":"a"}})", {{"_COMM", "a"}, {"TAG", "b"}, {"TAG", "c"}},
       {{"_COMM", "a"}, {"TAG", "b"}, {"TAG", "a"}}},
      {"repeated anchor field", R"({"_COMM":"sudo"})", {{"_COMM", "bash"}, {"_COMM", "sudo"}}, {{"_COMM", "bash"}, {"_COMM", "sud"}}},
  };
  for (const auto& c : cases) {
    INFO(c.name << "  " << c.where);
    auto set = event_rule(c.where);
    CHECK(match(*set, c.hit).has_value());
    CHECK_FALSE(match(*set, c.miss).has_value());
  }
}

TEST_CASE("matcher: regex named groups are captured", "[matcher]") {
  auto set = event_rule(
      R"J({"_COMM":"sshd","MESSAGE":{"regex":"^Accepted (?P<method>\\S+) for (?P<user>\\S+) from (?P<src_ip>\\S+) port (?P<src_port>\\d+)(?: (?P<proto>ssh2))?"}})J");
  const auto caps = match(*set, {{"_COMM", "sshd"}, {"MESSAGE", "Accepted publickey for alice from 10.0.0.5 port 50022"}});
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "method") == "publickey");
  CHECK(cap(*caps, "user") == "alice");
  CHECK(cap(*caps, "src_ip") == "10.0.0.5");
  CHECK(cap(*caps, "src_port") == "50022");
  CHECK(caps->find("proto") == nullptr);  // an optional group that did not take part
  CHECK_FALSE(match(*set, {{"_COMM", "sshd"}, {"MESSAGE", "Accepted publickey for alice from 10.0.0.5 port x"}}).has_value());
}

TEST_CASE("matcher: captures from a repeated field come from the value that matched", "[matcher]") {
  auto set = event_rule(R"J({"_COMM":"a","TAG":{"regex":"^id=(?P<id>\\d+)$"}})J");
  const auto caps = match(*set, {{"_COMM", "a"}, {"TAG", "name=x"}, {"TAG", "id=42"}, {"TAG", "id=43"}});
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "id") == "42");
}

TEST_CASE("matcher: field captures, first present field wins", "[matcher]") {
  auto set = event_rule(R"({"_COMM":"systemd"})", R"({"unit":["UNIT","USER_UNIT"],"pid":"_PID","missing":"NOPE"})");
  struct C {
    Fields fields;
    const char* unit;  // nullptr: not captured
  };
  const std::vector<C> cases = {
      {{{"_COMM", "systemd"}, {"UNIT", "a.timer"}, {"USER_UNIT", "b.timer"}}, "a.timer"},
      {{{"_COMM", "systemd"}, {"USER_UNIT", "b.timer"}}, "b.timer"},
      {{{"_COMM", "systemd"}, {"UNIT", ""}, {"USER_UNIT", "b.timer"}}, ""},  // present but empty is present
      {{{"_COMM", "systemd"}}, nullptr},
  };
  for (const auto& c : cases) {
    const auto caps = match(*set, c.fields);
    REQUIRE(caps.has_value());
    CHECK(cap(*caps, "unit") == (c.unit ? c.unit : "<none>"));
    CHECK(caps->find("missing") == nullptr);
  }
  // A repeated field: its first value.
  const auto caps = match(*set, {{"_COMM", "systemd"}, {"_PID", "10"}, {"_PID", "11"}});
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "pid") == "10");
}

TEST_CASE("matcher: a regex group takes precedence over a field capture of the same name", "[matcher]") {
  auto set = event_rule(R"J({"_COMM":"sudo","MESSAGE":{"regex":"^\\s*(?P<user>\\S+) :"}})J", R"({"user":"USER_ID"})");
  auto caps = match(*set, {{"_COMM", "sudo"}, {"MESSAGE", "  alice : TTY=pts/0"}, {"USER_ID", "bob"}});
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "user") == "alice");
}

TEST_CASE("matcher: captures come only from the alternative that matched", "[matcher]") {
  // The first alternative's regex matches and captures before its second test fails; the
  // value must not leak into the match made by the second alternative.
  auto set = event_rule(
      R"J({"_TRANSPORT":"syslog","any":[
            {"MESSAGE":{"regex":"^(?P<user>\\S+) : "},"_EXE":{"regex":"^/usr/bin/sudo$"}},
            {"MESSAGE":{"regex":"for user (?P<user>\\S+)$"}}]})J");
  const auto caps = match(*set, {{"_TRANSPORT", "syslog"}, {"_EXE", "/bin/su"}, {"MESSAGE", "mallory : session opened for user root"}});
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "user") == "root");
  // The near miss: the first alternative holds, and its capture is the one kept.
  const auto first = match(*set, {{"_TRANSPORT", "syslog"}, {"_EXE", "/usr/bin/sudo"}, {"MESSAGE", "mallory : session opened for user root"}});
  REQUIRE(first.has_value());
  CHECK(cap(*first, "user") == "mallory");
}

TEST_CASE("matcher: nothing is captured under a negation", "[matcher]") {
  auto set = event_rule(R"J({"_COMM":"a","not":{"MESSAGE":{"regex":"^(?P<x>bad)"}}})J");
  const auto caps = match(*set, {{"_COMM", "a"}, {"MESSAGE", "good"}});
  REQUIRE(caps.has_value());
  CHECK(caps->items.empty());
  CHECK_FALSE(match(*set, {{"_COMM", "a"}, {"MESSAGE", "bad"}}).has_value());
}

TEST_CASE("matcher: captured values are cut to the capture limit", "[matcher]") {
  auto set = event_rule(R"J({"_COMM":"sudo","MESSAGE":{"regex":"COMMAND=(?P<command>.*)$"}})J", R"({"cwd":"PWD"})");
  const std::string long_cmd = "/usr/bin/systemctl enable --now " + std::string(100, 'x') + ".timer";
  const auto caps = match(*set, {{"_COMM", "sudo"}, {"MESSAGE", "alice : COMMAND=" + long_cmd}, {"PWD", std::string(50, 'p')}}, 16);
  REQUIRE(caps.has_value());
  CHECK(cap(*caps, "command") == long_cmd.substr(0, 16));
  CHECK(cap(*caps, "cwd") == std::string(16, 'p'));
  // At the limit exactly, nothing is cut.
  const auto exact = match(*set, {{"_COMM", "sudo"}, {"MESSAGE", "COMMAND=0123456789abcdef"}, {"PWD", "/"}}, 16);
  REQUIRE(exact.has_value());
  CHECK(cap(*exact, "command") == "0123456789abcdef");
}

TEST_CASE("matcher: matches are listed in rule order, then event order", "[matcher]") {
  auto set = test::load_ok(R"({"rules":[
    {"id":"r1","title":"t","severity":"low","events":{"z":{"where":{"_COMM":"sshd"}},"a":{"where":{"_COMM":{"prefix":"ssh"}}}},
     "correlate":{"sequence":["z","a"],"within":"1m"}},
    {"id":"r2","title":"t","severity":"low","events":{"b":{"where":{"_COMM":"sshd","_UID":"0"}}},"correlate":{"sequence":["b"]}}]})");
  core::Matcher m(*set, 1024);
  std::vector<core::EventMatch> out;
  m.match(entry(*set, {{"_COMM", "sshd"}, {"_UID", "0"}}), out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].rule == 0);
  CHECK(set->rules[0]->events[static_cast<std::size_t>(out[0].event)].name == "a");  // events are in name order
  CHECK(set->rules[0]->events[static_cast<std::size_t>(out[1].event)].name == "z");
  CHECK(out[2].rule == 1);
  m.match(entry(*set, {{"_COMM", "sshd"}, {"_UID", "1"}}), out);
  CHECK(out.size() == 2);
}

TEST_CASE("matcher: the index, full scans and push-down", "[matcher]") {
  SECTION("every event has an exact constraint") {
    auto set = test::load_ok(R"({"rules":[{"id":"r","title":"t","severity":"low",
      "events":{"a":{"where":{"_COMM":["sshd","sshd-session"],"MESSAGE":{"regex":"^Accepted"}}},
                "b":{"where":{"MESSAGE_ID":"39f53479d3a045ac8e11786248231fbf","_PID":"1"}}},
      "correlate":{"sequence":["a","b"],"within":"1m"}}]})");
    core::Matcher m(*set, 1024);
    CHECK(m.full_scan_events().empty());
    auto push = m.pushdown();
    std::sort(push.begin(), push.end());
    REQUIRE(push.size() == 2);
    CHECK(push[0].first == "MESSAGE_ID");  // the most selective field is the anchor
    CHECK(push[0].second == std::vector<std::string>{"39f53479d3a045ac8e11786248231fbf"});
    CHECK(push[1].first == "_COMM");
    CHECK(push[1].second == std::vector<std::string>{"sshd", "sshd-session"});
  }
  SECTION("an event without one is scanned for every entry, and nothing is pushed down") {
    auto set = test::load_ok(R"({"rules":[{"id":"r","title":"t","severity":"low",
      "events":{"a":{"where":{"_COMM":"sshd"}},"b":{"where":{"_UID":{"lt":1000},"MESSAGE":{"regex":"x"}}}},
      "correlate":{"sequence":["a","b"],"within":"1m"}}]})");
    core::Matcher m(*set, 1024);
    const auto full = m.full_scan_events();
    REQUIRE(full.size() == 1);
    CHECK(full[0] == std::pair<std::string, std::string>{"r", "b"});
    CHECK(m.pushdown().empty());
    std::vector<core::EventMatch> out;
    m.match(entry(*set, {{"_UID", "0"}, {"MESSAGE", "x"}}), out);
    CHECK(out.size() == 1);
    m.match(entry(*set, {{"_UID", "1000"}, {"MESSAGE", "x"}}), out);
    CHECK(out.empty());
  }
  SECTION("detection events are matched only as detections") {
    auto set = test::load_ok(R"({"rules":[
      {"id":"p","title":"t","severity":"low","events":{"a":{"where":{"_COMM":"a"}}},"correlate":{"sequence":["a"]}},
      {"id":"c","title":"t","severity":"low","events":{"d":{"from":"detections","where":{"rule":"p","user":{"exists":true}}}},
       "correlate":{"sequence":["d"]}}]})");
    core::Matcher m(*set, 1024);
    CHECK(m.full_scan_events().empty());
    std::vector<core::EventMatch> out;
    core::Event det;
    det.add(*set->schema.find("rule"), "p");
    det.add(*set->schema.find("user"), "alice");
    m.match(det, out);
    CHECK(out.empty());
    m.match_detection(det, out);
    REQUIRE(out.size() == 1);
    CHECK(set->rules[out[0].rule]->id == "c");
    core::Event other;
    other.add(*set->schema.find("rule"), "q");
    other.add(*set->schema.find("user"), "alice");
    m.match_detection(other, out);
    CHECK(out.empty());
  }
}

TEST_CASE("matcher: deferred push-down of events joined to detection values", "[matcher]") {
  // A producer rule whose detections carry "service", and a consumer whose second step
  // has no exact constraint but joins its unit to the detection's service.
  auto consumer = [](const std::string& steps, const std::string& exec_extra = "") {
    return test::load_ok(R"({"rules":[
      {"id":"p","title":"t","severity":"low","events":{"a":{"where":{"_COMM":"a"},"capture":{"svc":"UNIT"}}},
       "correlate":{"sequence":["a"]},"values":{"service":"a.svc"}},
      {"id":"c","title":"t","severity":"low",
       "events":{"det":{"from":"detections","where":{"rule":"p"},"capture":{"service":"service"}},
                 "other":{"where":{"_COMM":"o"},"capture":{"unit":"UNIT"}},
                 "exec":{"where":{"_EXE":{"prefix":"/tmp/"})" + exec_extra + R"(},
                         "capture":{"unit":["_SYSTEMD_USER_UNIT","_SYSTEMD_UNIT"]}}},
       "correlate":{)" + steps + R"(,"within":"1h"}}]})");
  };
  struct Case {
    const char* name;
    std::string steps;
    bool deferrable;
  };
  const std::vector<Case> cases = {
      {"joined to an earlier required detection step", R"("sequence":["det",{"event":"exec","join":{"unit":"det.service"}}])", true},
      {"an until step joined to the detection", R"("sequence":["det","other"],"until":[{"event":"exec","join":{"unit":"det.service"}}])", true},
      {"first step: it starts partial matches", R"("sequence":["exec",{"event":"det","join":{"service":"exec.unit"}}])", false},
      {"not joined", R"("sequence":["det","exec"])", false},
      {"joined to an optional step", R"("sequence":[{"event":"det","optional":true},"other",{"event":"exec","join":{"unit":"det.service"}}])", false},
      {"joined to a journal event's capture", R"("sequence":["other",{"event":"exec","join":{"unit":"other.unit"}}])", false},
      {"all_of: any member may start, and none joins", R"("all_of":["det","exec"])", false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto set = consumer(c.steps);
    core::Matcher m(*set, 1024);
    REQUIRE(m.full_scan_events().size() == 1);
    CHECK(m.pushdown().empty());
    const auto scans = m.deferred_scans();
    if (!c.deferrable) {
      CHECK(scans.empty());
      continue;
    }
    REQUIRE(scans.size() == 1);
    CHECK(scans[0].rule == "c");
    CHECK(scans[0].event == "exec");
    CHECK(scans[0].fields == std::vector<std::string>{"_SYSTEMD_USER_UNIT", "_SYSTEMD_UNIT"});
    CHECK(scans[0].detection_values == std::vector<std::string>{"service"});
    auto anchored = m.anchored_pushdown();
    std::sort(anchored.begin(), anchored.end());
    REQUIRE(anchored.size() == 2);
    CHECK(anchored[0] == std::pair<std::string, std::vector<std::string>>{"_COMM", {"a"}});
    CHECK(anchored[1] == std::pair<std::string, std::vector<std::string>>{"_COMM", {"o"}});
  }
  SECTION("a capture a regex group makes is not a plain field value") {
    auto set = consumer(R"("sequence":["det",{"event":"exec","join":{"unit":"det.service"}}])",
                        R"x(,"MESSAGE":{"regex":"(?P<unit>\\S+)"})x");
    core::Matcher m(*set, 1024);
    CHECK(m.deferred_scans().empty());
  }
}
