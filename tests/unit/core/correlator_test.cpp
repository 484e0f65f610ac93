// Correlator semantics, case by case, in event time only. Every case that fires has a
// near-miss twin that must not. Windows are tested at their edge and one microsecond past.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core_test_util.h"
#include "jcorr/core/sha256.h"

using namespace jcorr;

namespace {

using core::Micros;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr Micros kUs = 1;
constexpr Micros kSec = 1000000;
constexpr Micros kMin = 60 * kSec;
constexpr Micros kHour = 60 * kMin;

// One input entry: its time in µs after the test epoch and its fields. _MACHINE_ID is
// "m1" unless the fields say otherwise.
struct In {
  Micros t;
  Fields f;
};

core::Event make(const core::RuleSet& set, const In& in, std::size_t index) {
  core::Event ev;
  ev.realtime_us = test::kEpoch + static_cast<std::uint64_t>(in.t);
  ev.monotonic_us = static_cast<std::uint64_t>(in.t) + 1;
  ev.cursor = "s=0;i=" + std::to_string(index) + ";b=boot;m=" + std::to_string(ev.monotonic_us) + ";t=" +
              std::to_string(ev.realtime_us) + ";x=" + std::to_string(index);
  std::string machine = "m1";
  for (const auto& [k, v] : in.f)
    if (k == "_MACHINE_ID") machine = v;
  ev.add(core::kMachineIdField, machine);
  ev.add(core::kHostnameField, "host-" + machine);
  for (const auto& [k, v] : in.f)
    if (k != "_MACHINE_ID")
      if (auto id = set.schema.find(k)) ev.add(*id, v);
  return ev;
}

// A correlator over a rule set, fed entry by entry.
class Harness {
 public:
  explicit Harness(const std::string& rules, core::CorrelatorOptions opts = {})
      : set_(test::load_ok(rules)), c_(*set_, opts) {}
  // Feeds one entry; returns the detections it released.
  std::vector<core::Detection> feed(const In& in) {
    std::vector<core::Detection> out;
    c_.process(make(*set_, in, next_++), out);
    all_.insert(all_.end(), out.begin(), out.end());
    return out;
  }
  std::vector<core::Detection> feed(const std::vector<In>& ins) {
    std::vector<core::Detection> out;
    for (const auto& in : ins) {
      auto d = feed(in);
      out.insert(out.end(), d.begin(), d.end());
    }
    return out;
  }
  std::vector<core::Detection> advance(Micros t) {
    std::vector<core::Detection> out;
    c_.advance_to(static_cast<Micros>(test::kEpoch) + t, out);
    all_.insert(all_.end(), out.begin(), out.end());
    return out;
  }
  std::vector<core::Detection> finish() {
    std::vector<core::Detection> out;
    c_.finish(out);
    all_.insert(all_.end(), out.begin(), out.end());
    return out;
  }
  const std::vector<core::Detection>& all() const { return all_; }
  const core::CorrelatorStats& stats() const { return c_.stats(); }
  core::RuleSet& set() { return *set_; }

 private:
  std::unique_ptr<core::RuleSet> set_;
  core::Correlator c_;
  std::vector<core::Detection> all_;
  std::size_t next_ = 0;
};

std::vector<core::Detection> run_all(const std::string& rules, const std::vector<In>& ins, core::CorrelatorOptions opts = {}) {
  Harness h(rules, opts);
  h.feed(ins);
  h.finish();
  return h.all();
}

std::string str(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::vector<std::string> steps_of(const core::Detection& d) {
  std::vector<std::string> s;
  for (const auto& e : d.evidence) s.push_back(e.step);
  return s;
}

Micros rel(std::int64_t abs_us) { return abs_us - static_cast<Micros>(test::kEpoch); }

// ---- realistic records (systemd 252, OpenSSH 9.2, sudo 1.9) ----

Fields ssh(const std::string& user, const std::string& pid, const std::string& ip = "203.0.113.7", const std::string& machine = "m1") {
  return {{"_MACHINE_ID", machine}, {"_COMM", "sshd"}, {"_PID", pid}, {"_TRANSPORT", "syslog"},
          {"MESSAGE", "Accepted password for " + user + " from " + ip + " port 50022 ssh2"}};
}
Fields new_session(const std::string& session, const std::string& leader, const std::string& user,
                   const std::string& machine = "m1") {
  return {{"_MACHINE_ID", machine}, {"_COMM", "systemd-logind"}, {"MESSAGE_ID", "8d45620c1a4348dbb17410da57c60c66"},
          {"SESSION_ID", session}, {"LEADER", leader}, {"USER_ID", user},
          {"MESSAGE", "New session " + session + " of user " + user + "."}};
}
Fields sudo(const std::string& user, const std::string& session, const std::string& command, const std::string& machine = "m1") {
  return {{"_MACHINE_ID", machine}, {"_COMM", "sudo"}, {"_AUDIT_SESSION", session}, {"_TRANSPORT", "syslog"},
          {"MESSAGE", "    " + user + " : TTY=pts/0 ; PWD=/home/" + user + " ; USER=root ; COMMAND=" + command}};
}
Fields root_login(const std::string& pid) {
  return {{"_COMM", "sshd"}, {"_PID", pid}, {"_TRANSPORT", "syslog"},
          {"MESSAGE", "Accepted publickey for root from 198.51.100.9 port 40000 ssh2"}};
}
Fields reload() { return {{"_PID", "1"}, {"_COMM", "systemd"}, {"_TRANSPORT", "journal"}, {"MESSAGE", "Reloading."}}; }
Fields timer(const std::string& unit, const std::string& machine = "m1") {
  return {{"_MACHINE_ID", machine}, {"_PID", "1"}, {"_COMM", "systemd"}, {"_TRANSPORT", "journal"},
          {"MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf"}, {"UNIT", unit}, {"MESSAGE", "Started " + unit + "."}};
}
Fields closed(const std::string& session) {
  return {{"_COMM", "systemd-logind"}, {"MESSAGE_ID", "3354939424b4456d9802ca8333ed424a"}, {"SESSION_ID", session},
          {"MESSAGE", "Removed session " + session + "."}};
}

const std::string kEvents = R"J({
  "ssh_login":   {"where": {"_COMM": "sshd", "_TRANSPORT": "syslog",
                            "MESSAGE": {"regex": "^Accepted (?P<method>\\S+) for (?P<user>\\S+) from (?P<src_ip>\\S+)"}},
                  "capture": {"sshd_pid": "_PID"}},
  "session":     {"where": {"_COMM": "systemd-logind", "MESSAGE_ID": "8d45620c1a4348dbb17410da57c60c66"},
                  "capture": {"session": "SESSION_ID", "leader": "LEADER", "user": "USER_ID"}},
  "sudo_cmd":    {"where": {"_COMM": "sudo", "_TRANSPORT": "syslog",
                            "MESSAGE": {"regex": "^\\s*(?P<user>\\S+) : .*COMMAND=(?P<command>.*)$"}},
                  "capture": {"session": "_AUDIT_SESSION"}},
  "root_login":  {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "^Accepted \\S+ for root "}}, "capture": {"sshd_pid": "_PID"}},
  "reload":      {"where": {"_PID": "1", "_TRANSPORT": "journal", "MESSAGE": {"regex": "^Reloading(\\.|\\.\\.\\.)$"}}},
  "timer_start": {"where": {"_PID": "1", "MESSAGE_ID": "39f53479d3a045ac8e11786248231fbf", "UNIT": {"suffix": ".timer"}},
                  "capture": {"unit": "UNIT"}},
  "session_closed": {"where": {"_COMM": "systemd-logind", "MESSAGE_ID": "3354939424b4456d9802ca8333ed424a"},
                     "capture": {"session": "SESSION_ID"}}
})J";

// A rule file with kEvents shared by its rules.
std::string rules_file(const std::vector<std::string>& rules, const std::string& lists = "{}") {
  std::string s = R"({"lists":)" + lists + R"(,"events":)" + kEvents + R"(,"rules":[)";
  for (std::size_t i = 0; i < rules.size(); ++i) s += (i ? "," : "") + rules[i];
  return s + "]}";
}

std::string rule(const std::string& id, const std::string& correlate, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","title":"T )" + id + R"(","severity":"high","correlate":)" + correlate + extra + "}";
}

// Small synthetic events for window and grouping cases: "a", "b", "c" by _COMM, with
// the user in USER and a number in N.
const std::string kAbc = R"J({
  "a": {"where": {"_COMM": "a"}, "capture": {"user": "USER", "n": "N"}},
  "b": {"where": {"_COMM": "b"}, "capture": {"user": "USER", "n": "N"}},
  "c": {"where": {"_COMM": "c"}, "capture": {"user": "USER", "n": "N"}}
})J";
std::string abc_rule(const std::string& correlate, const std::string& extra = "", const std::string& lists = "{}") {
  return R"({"lists":)" + lists + R"(,"events":)" + kAbc + R"(,"rules":[{"id":"r","title":"t","severity":"low","correlate":)" +
         correlate + extra + "}]}";
}
Fields A(const std::string& user = "u", const std::string& machine = "m1") {
  return {{"_COMM", "a"}, {"USER", user}, {"_MACHINE_ID", machine}};
}
Fields B(const std::string& user = "u", const std::string& machine = "m1") {
  return {{"_COMM", "b"}, {"USER", user}, {"_MACHINE_ID", machine}};
}
Fields C(const std::string& user = "u", const std::string& machine = "m1") {
  return {{"_COMM", "c"}, {"USER", user}, {"_MACHINE_ID", machine}};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Sequences: joins, alternatives, optional and repeated steps, until

TEST_CASE("correlator: joins across different field names", "[correlator]") {
  // sshd's _PID is logind's LEADER; logind's SESSION_ID is sudo's _AUDIT_SESSION.
  const std::string rules = rules_file({rule("chain", R"({"sequence": [
      "ssh_login",
      {"event": "session", "join": {"leader": "ssh_login.sshd_pid", "user": "ssh_login.user"}},
      {"event": "sudo_cmd", "join": {"session": "session.session", "user": "ssh_login.user"}},
      "timer_start"], "within": "30m"})",
      R"(,"values": {"user": "ssh_login.user", "src_ip": "ssh_login.src_ip", "session": "session.session",
                     "command": "sudo_cmd.command", "unit": "timer_start.unit", "host": "_HOSTNAME"},
         "summary": "{ssh_login.user} from {ssh_login.src_ip} started {timer_start.unit} on {_HOSTNAME}")")});
  struct Case {
    const char* name;
    std::vector<In> in;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"the whole chain",
       {{0, ssh("alice", "4242")}, {1 * kSec, new_session("7", "4242", "alice")},
        {60 * kSec, sudo("alice", "7", "/usr/bin/systemctl enable --now evil.timer")}, {61 * kSec, timer("evil.timer")}},
       true},
      {"logind's LEADER is another sshd",
       {{0, ssh("alice", "4242")}, {1 * kSec, new_session("7", "4243", "alice")},
        {60 * kSec, sudo("alice", "7", "/usr/bin/systemctl enable --now evil.timer")}, {61 * kSec, timer("evil.timer")}},
       false},
      {"sudo in another audit session",
       {{0, ssh("alice", "4242")}, {1 * kSec, new_session("7", "4242", "alice")},
        {60 * kSec, sudo("alice", "8", "/usr/bin/systemctl enable --now evil.timer")}, {61 * kSec, timer("evil.timer")}},
       false},
      {"sudo by another user in the session",
       {{0, ssh("alice", "4242")}, {1 * kSec, new_session("7", "4242", "alice")},
        {60 * kSec, sudo("bob", "7", "/usr/bin/systemctl enable --now evil.timer")}, {61 * kSec, timer("evil.timer")}},
       false},
      {"the steps out of order",
       {{0, ssh("alice", "4242")}, {1 * kSec, new_session("7", "4242", "alice")}, {60 * kSec, timer("evil.timer")},
        {61 * kSec, sudo("alice", "7", "/usr/bin/systemctl enable --now evil.timer")}},
       false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto out = run_all(rules, c.in);
    REQUIRE(out.size() == (c.fires ? 1u : 0u));
    if (!c.fires) continue;
    const auto& d = out[0];
    CHECK(d.rule_id == "chain");
    CHECK(d.title == "T chain");
    CHECK(d.severity == "high");
    CHECK(str(d.values.at("user")) == "alice");
    CHECK(str(d.values.at("src_ip")) == "203.0.113.7");
    CHECK(str(d.values.at("session")) == "7");
    CHECK(str(d.values.at("command")) == "/usr/bin/systemctl enable --now evil.timer");
    CHECK(str(d.values.at("unit")) == "evil.timer");
    CHECK(str(d.values.at("host")) == "host-m1");
    CHECK(d.summary == "alice from 203.0.113.7 started evil.timer on host-m1");
    CHECK(d.machine_id == "m1");
    CHECK(d.hostname == "host-m1");
    CHECK(steps_of(d) == std::vector<std::string>{"ssh_login", "session", "sudo_cmd", "timer_start"});
    CHECK(d.evidence[1].fields.at("LEADER") == "4242");
    CHECK(d.evidence[2].fields.at("_AUDIT_SESSION") == "7");
    CHECK(rel(d.first_us) == 0);
    CHECK(rel(d.last_us) == 61 * kSec);
    CHECK(rel(d.time_us) == 61 * kSec);
    CHECK(d.completing_entry == d.evidence.back().entry_id);
    CHECK_FALSE(d.window_truncated);
  }
}

TEST_CASE("correlator: alternatives in a step (any_of)", "[correlator]") {
  const std::string rules = rules_file({rule("alt", R"({"sequence": [
      {"any_of": ["sudo_cmd", "root_login"], "as": "priv"}, "timer_start"], "within": "10m"})",
      R"(,"values": {"how": "priv.command", "user": "priv.user"})")});
  struct Case {
    const char* name;
    Fields first;
    bool fires;
    const char* event;
  };
  const std::vector<Case> cases = {
      {"sudo", sudo("alice", "3", "/usr/bin/systemctl daemon-reload"), true, "sudo_cmd"},
      {"a direct root login", root_login("99"), true, "root_login"},
      {"neither: su", {{"_COMM", "su"}, {"MESSAGE", "(to root) alice on pts/0"}}, false, ""},
      {"neither: a user login", ssh("alice", "98"), false, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto out = run_all(rules, {{0, c.first}, {5 * kMin, timer("x.timer")}});
    REQUIRE(out.size() == (c.fires ? 1u : 0u));
    if (!c.fires) continue;
    CHECK(out[0].evidence[0].step == "priv");
    CHECK(out[0].evidence[0].event == c.event);
    if (std::string(c.event) == "sudo_cmd") CHECK(str(out[0].values.at("user")) == "alice");
    else CHECK(out[0].values.at("user").is_null());  // the alternative taken has no such capture
  }
}

TEST_CASE("correlator: optional steps enrich when present and are skipped when not", "[correlator]") {
  const std::string rules = rules_file({rule("opt", R"({"sequence": [
      "ssh_login",
      {"event": "session", "optional": true, "join": {"leader": "ssh_login.sshd_pid"}},
      {"event": "sudo_cmd", "join": {"session": "session.session", "user": "ssh_login.user"}},
      {"event": "reload", "optional": true},
      "timer_start"], "within": "30m"})",
      R"(,"values": {"session": "session.session", "user": "ssh_login.user"})")});
  SECTION("both optional steps present") {
    const auto out = run_all(rules, {{0, ssh("alice", "10")}, {1 * kSec, new_session("5", "10", "alice")},
                                     {2 * kSec, sudo("alice", "5", "/bin/true")}, {3 * kSec, reload()},
                                     {4 * kSec, timer("t.timer")}});
    REQUIRE(out.size() == 1);
    CHECK(steps_of(out[0]) == std::vector<std::string>{"ssh_login", "session", "sudo_cmd", "reload", "timer_start"});
    CHECK(str(out[0].values.at("session")) == "5");
  }
  SECTION("both optional steps missing: the join to the missing step is not checked") {
    const auto out = run_all(rules, {{0, ssh("alice", "10")}, {2 * kSec, sudo("alice", "5", "/bin/true")},
                                     {4 * kSec, timer("t.timer")}});
    REQUIRE(out.size() == 1);
    CHECK(steps_of(out[0]) == std::vector<std::string>{"ssh_login", "sudo_cmd", "timer_start"});
    CHECK(out[0].values.at("session").is_null());
  }
  SECTION("near miss: an optional step that is present still constrains the joins after it") {
    const auto out = run_all(rules, {{0, ssh("alice", "10")}, {1 * kSec, new_session("5", "10", "alice")},
                                     {2 * kSec, sudo("alice", "6", "/bin/true")}, {4 * kSec, timer("t.timer")}});
    CHECK(out.empty());
  }
  SECTION("near miss: an optional step's entry after the next required step is not taken") {
    const auto out = run_all(rules, {{0, ssh("alice", "10")}, {2 * kSec, sudo("alice", "5", "/bin/true")},
                                     {3 * kSec, timer("t.timer")}, {4 * kSec, reload()}});
    REQUIRE(out.size() == 1);
    CHECK(steps_of(out[0]) == std::vector<std::string>{"ssh_login", "sudo_cmd", "timer_start"});
  }
}

TEST_CASE("correlator: repeat N and N+", "[correlator]") {
  const auto fixed = abc_rule(R"({"sequence": ["a", {"event": "b", "repeat": 3}, "c"], "within": "10m"})",
                              R"(,"values": {"ns": "b.n"})");
  const auto runs = abc_rule(R"({"sequence": ["a", {"event": "b", "repeat": "2+"}, "c"], "within": "10m"})",
                             R"(,"values": {"ns": "b.n"})");
  auto b = [](const std::string& n) { return Fields{{"_COMM", "b"}, {"N", n}}; };
  SECTION("exactly N") {
    auto out = run_all(fixed, {{0, A()}, {1, b("1")}, {2, b("2")}, {3, b("3")}, {4, C()}});
    REQUIRE(out.size() == 1);
    CHECK(out[0].values.at("ns") == nlohmann::json::array({"1", "2", "3"}));
    // Near miss: N-1.
    CHECK(run_all(fixed, {{0, A()}, {1, b("1")}, {2, b("2")}, {4, C()}}).empty());
  }
  SECTION("more than N: the next step must follow once N are in") {
    auto out = run_all(fixed, {{0, A()}, {1, b("1")}, {2, b("2")}, {3, b("3")}, {4, b("4")}, {5, C()}});
    REQUIRE(out.size() == 1);
    CHECK(out[0].values.at("ns") == nlohmann::json::array({"1", "2", "3"}));
  }
  SECTION("N+ absorbs every further match until the next step") {
    auto out = run_all(runs, {{0, A()}, {1, b("1")}, {2, b("2")}, {3, b("3")}, {4, b("3")}, {5, C()}, {6, b("5")}});
    REQUIRE(out.size() == 1);
    CHECK(out[0].values.at("ns") == nlohmann::json::array({"1", "2", "3"}));  // distinct values, in order
    CHECK(out[0].evidence.size() == 6);
    // Near miss: fewer than N.
    CHECK(run_all(runs, {{0, A()}, {1, b("1")}, {5, C()}}).empty());
  }
}

TEST_CASE("correlator: until ends a partial match", "[correlator]") {
  const std::string rules = rules_file({rule("until", R"({"sequence": [
      "ssh_login", {"event": "session", "join": {"leader": "ssh_login.sshd_pid"}}, "timer_start"],
      "within": "8h", "until": {"event": "session_closed", "join": {"session": "session.session"}}})")});
  const std::vector<In> start = {{0, ssh("alice", "10")}, {1 * kSec, new_session("5", "10", "alice")}};
  auto with = [&](std::vector<In> more) {
    auto in = start;
    in.insert(in.end(), more.begin(), more.end());
    return in;
  };
  CHECK(run_all(rules, with({{2 * kSec, closed("5")}, {3 * kSec, timer("t.timer")}})).empty());
  // Near misses: another session closes; the session closes after the timer.
  CHECK(run_all(rules, with({{2 * kSec, closed("6")}, {3 * kSec, timer("t.timer")}})).size() == 1);
  CHECK(run_all(rules, with({{3 * kSec, timer("t.timer")}, {4 * kSec, closed("5")}})).size() == 1);
  // An until whose join refers to a step not yet taken cannot end the partial match.
  CHECK(run_all(rules, {{0, ssh("alice", "10")}, {1 * kSec, closed("5")}, {2 * kSec, new_session("5", "10", "alice")},
                        {3 * kSec, timer("t.timer")}})
            .size() == 1);
}

TEST_CASE("correlator: until with a group key", "[correlator]") {
  // The until event carries the group key field too, so it reaches the partial match.
  const auto rules = abc_rule(R"({"sequence": ["a", "b"], "within": "10m", "by": ["_UID"], "until": "c"})");
  auto at = [](const char* comm, const char* uid) { return Fields{{"_COMM", comm}, {"_UID", uid}}; };
  CHECK(run_all(rules, {{0, at("a", "1000")}, {1, at("c", "1000")}, {2, at("b", "1000")}}).empty());
  // Near miss: the until event belongs to another group.
  CHECK(run_all(rules, {{0, at("a", "1000")}, {1, at("c", "1001")}, {2, at("b", "1000")}}).size() == 1);
}

// ---------------------------------------------------------------------------------------
// Absences

TEST_CASE("correlator: absent trailing step, \"A then no B within T\"", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "absent": true, "join": {"user": "a.user"}}], "within": "5m"})",
                              R"(,"values": {"user": "a.user"})");
  SECTION("fires when the watermark passes the deadline, not before") {
    Harness h(rules);
    CHECK(h.feed({0, A("alice")}).empty());
    CHECK(h.feed({5 * kMin, C()}).empty());         // at the deadline: B could still come
    const auto out = h.feed({5 * kMin + kUs, C()});  // one microsecond past
    REQUIRE(out.size() == 1);
    CHECK(rel(out[0].time_us) == 5 * kMin);  // the deadline, not the entry that moved the clock
    CHECK(str(out[0].values.at("user")) == "alice");
    CHECK(out[0].completing_entry.empty());
    CHECK_FALSE(out[0].window_truncated);
    CHECK(steps_of(out[0]) == std::vector<std::string>{"a"});
    CHECK(h.finish().empty());
  }
  SECTION("advance_to moves the clock without an entry") {
    Harness h(rules);
    h.feed({0, A("alice")});
    CHECK(h.advance(5 * kMin).empty());
    CHECK(h.advance(5 * kMin + kUs).size() == 1);
  }
  SECTION("near miss: B at the deadline exactly cancels it") {
    Harness h(rules);
    h.feed({0, A("alice")});
    CHECK(h.feed({5 * kMin, B("alice")}).empty());
    CHECK(h.feed({10 * kMin, C()}).empty());
    CHECK(h.finish().empty());
  }
  SECTION("B one microsecond late does not cancel it") {
    Harness h(rules);
    h.feed({0, A("alice")});
    CHECK(h.feed({5 * kMin + kUs, B("alice")}).size() == 1);
  }
  SECTION("near miss: a B that does not join does not cancel it") {
    Harness h(rules);
    h.feed({0, A("alice")});
    h.feed({1 * kMin, B("bob")});
    CHECK(h.finish().size() == 1);
  }
  SECTION("at end of input before the deadline it fires, marked window_truncated") {
    Harness h(rules);
    h.feed({0, A("alice")});
    h.feed({1 * kMin, C()});
    const auto out = h.finish();
    REQUIRE(out.size() == 1);
    CHECK(out[0].window_truncated);
    CHECK(rel(out[0].time_us) == 5 * kMin);
  }
  SECTION("at end of input with the last entry exactly at the deadline it is still truncated") {
    Harness h(rules);
    h.feed({0, A("alice")});
    h.feed({5 * kMin, C()});
    const auto out = h.finish();
    REQUIRE(out.size() == 1);
    CHECK(out[0].window_truncated);
  }
  SECTION("its id differs from a detection completed by an entry") {
    Harness h(rules);
    h.feed({0, A("alice")});
    const auto out = h.finish();
    REQUIRE(out.size() == 1);
    core::Sha256 sha;
    sha.update("r");
    sha.update("\n");
    sha.update(out[0].evidence[0].entry_id);
    const auto digest = sha.finish();
    std::string plain;
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 16; ++i) {
      plain.push_back(kHex[digest[i] >> 4]);
      plain.push_back(kHex[digest[i] & 15]);
    }
    CHECK(out[0].id != plain);
  }
}

TEST_CASE("correlator: an allowed lateness delays an absence but does not change it", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "absent": true, "join": {"user": "a.user"}}], "within": "5m",
                                  "until": "c"})");
  core::CorrelatorOptions late;
  late.allowed_lateness = 2 * kMin;
  struct Case {
    const char* name;
    std::vector<In> in;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"B past the deadline, before the watermark reaches it", {{0, A("x")}, {5 * kMin + kUs, B("x")}}, true},
      {"until past the deadline", {{0, A("x")}, {6 * kMin, C()}}, true},
      {"near miss: B at the deadline", {{0, A("x")}, {5 * kMin, B("x")}}, false},
      {"near miss: until at the deadline", {{0, A("x")}, {5 * kMin, C()}}, false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Harness h(rules, late);
    h.feed(c.in);
    CHECK(h.all().empty());  // the watermark is still before the deadline
    h.feed({7 * kMin + kUs, {{"_COMM", "x"}}});
    CHECK(h.all().size() == (c.fires ? 1u : 0u));
    CHECK(run_all(rules, c.in).size() == (c.fires ? 1u : 0u));  // as without lateness
  }
}

TEST_CASE("correlator: absent trailing step with its own window", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "absent": true, "within": "1m"}], "within": "1h"})");
  Harness h(rules);
  h.feed({0, A()});
  CHECK(h.advance(1 * kMin).empty());
  const auto out = h.advance(1 * kMin + kUs);
  REQUIRE(out.size() == 1);
  CHECK(rel(out[0].time_us) == 1 * kMin);
}

TEST_CASE("correlator: absent leading step, \"B with no A before it within T\"", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": [{"event": "a", "absent": true}, {"event": "b", "join": {"user": "a.user"}}], "within": "10m"})",
                              R"(,"values": {"user": "b.user"})");
  struct Case {
    const char* name;
    std::vector<In> in;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"B alone", {{0, B("alice")}}, true},
      {"A just inside the window before B", {{0, A("alice")}, {10 * kMin, B("alice")}}, false},
      {"A one microsecond too early", {{0, A("alice")}, {10 * kMin + kUs, B("alice")}}, true},
      {"A at the same time as B, before it", {{5 * kSec, A("alice")}, {5 * kSec, B("alice")}}, false},
      {"A for another user", {{0, A("bob")}, {1 * kMin, B("alice")}}, true},
      {"A on another host", {{0, A("alice", "m2")}, {1 * kMin, B("alice")}}, true},
      {"A after B does not undo it", {{0, B("alice")}, {1 * kSec, A("alice")}}, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Harness h(rules);
    const auto out = h.feed(c.in);  // it fires on B, without waiting
    REQUIRE(out.size() == (c.fires ? 1u : 0u));
    if (c.fires) {
      CHECK(str(out[0].values.at("user")) == "alice");
      CHECK(steps_of(out[0]) == std::vector<std::string>{"b"});
      CHECK_FALSE(out[0].completing_entry.empty());
    }
    CHECK(h.finish().empty());
  }
}

TEST_CASE("correlator: absent middle step", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "absent": true, "join": {"user": "a.user"}}, "c"], "within": "10m"})");
  struct Case {
    const char* name;
    std::vector<In> in;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"A then C", {{0, A("alice")}, {1 * kMin, C()}}, true},
      {"A, B, C", {{0, A("alice")}, {30 * kSec, B("alice")}, {1 * kMin, C()}}, false},
      {"A, B of another user, C", {{0, A("alice")}, {30 * kSec, B("bob")}, {1 * kMin, C()}}, true},
      {"B before A", {{0, B("alice")}, {30 * kSec, A("alice")}, {1 * kMin, C()}}, true},
      {"B after C", {{0, A("alice")}, {1 * kMin, C()}, {2 * kMin, B("alice")}}, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(run_all(rules, c.in).size() == (c.fires ? 1u : 0u));
  }
}

// ---------------------------------------------------------------------------------------
// Windows

TEST_CASE("correlator: windows are inclusive at the edge and closed one microsecond past", "[correlator]") {
  struct Case {
    const char* name;
    std::string rules;
    std::vector<In> edge;  // fires
    std::vector<In> past;  // one microsecond later: must not
  };
  const std::vector<Case> cases = {
      {"sequence span", abc_rule(R"({"sequence": ["a", "b", "c"], "within": "5m"})"),
       {{0, A()}, {1 * kMin, B()}, {5 * kMin, C()}}, {{0, A()}, {1 * kMin, B()}, {5 * kMin + kUs, C()}}},
      {"gap to a step", abc_rule(R"({"sequence": ["a", {"event": "b", "within": "30s"}], "within": "1h"})"),
       {{0, A()}, {30 * kSec, B()}}, {{0, A()}, {30 * kSec + kUs, B()}}},
      {"gap measured from the previous member", abc_rule(R"({"sequence": ["a", "b", {"event": "c", "within": "30s"}], "within": "1h"})"),
       {{0, A()}, {20 * kMin, B()}, {20 * kMin + 30 * kSec, C()}}, {{0, A()}, {20 * kMin, B()}, {20 * kMin + 30 * kSec + kUs, C()}}},
      {"all_of", abc_rule(R"({"all_of": ["a", "b"], "within": "5m"})"), {{0, B()}, {5 * kMin, A()}}, {{0, B()}, {5 * kMin + kUs, A()}}},
      {"count", abc_rule(R"({"count": {"event": "a", "min": 3}, "within": "1m"})"), {{0, A()}, {30 * kSec, A()}, {1 * kMin, A()}},
       {{0, A()}, {30 * kSec, A()}, {1 * kMin + kUs, A()}}},
      {"distinct", abc_rule(R"({"distinct": {"event": "a", "min": 2, "value": "user"}, "within": "1m"})"),
       {{0, A("x")}, {1 * kMin, A("y")}}, {{0, A("x")}, {1 * kMin + kUs, A("y")}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(run_all(c.rules, c.edge).size() == 1);
    CHECK(run_all(c.rules, c.past).empty());
    // The same with the clock moved to the edge between the entries, and past it.
    Harness h(c.rules);
    for (std::size_t i = 0; i + 1 < c.edge.size(); ++i) h.feed(c.edge[i]);
    h.advance(c.edge.back().t);
    CHECK(h.feed(c.edge.back()).size() == 1);
  }
}

// ---------------------------------------------------------------------------------------
// Overlapping attempts: two attackers on one host, one session starting two timers

TEST_CASE("correlator: two sessions on one host each start a timer", "[correlator]") {
  // Each session has its own partial match (the joins keep them apart up to sudo). The
  // timer record names no session; "prefer" attributes it to the session whose sudo
  // command named the unit. Without "prefer", a timer completes every open attempt.
  const std::string correlate = R"({"sequence": [
      "ssh_login",
      {"event": "session", "join": {"leader": "ssh_login.sshd_pid", "user": "ssh_login.user"}},
      {"event": "sudo_cmd", "join": {"session": "session.session"}, "repeat": "1+"},
      {"event": "timer_start"%PREFER%}],
      "within": "30m", "emit": "each"})";
  auto with_prefer = [&](bool prefer) {
    std::string c = correlate;
    c.replace(c.find("%PREFER%"), 8, prefer ? R"(, "prefer": {"unit": "sudo_cmd.target"})" : "");
    // sudo's target unit, for the preference: the last word of the command.
    std::string events = kEvents;
    return R"({"events":)" + events + R"(,"rules":[)" +
           rule("r", c, R"(,"values": {"user": "ssh_login.user", "unit": "timer_start.unit", "session": "session.session"})") + "]}";
  };
  // The preference needs a capture of the unit named in sudo's command.
  auto patch = [](std::string rules) {
    const std::string from = R"(COMMAND=(?P<command>.*)$)";
    const std::string to = R"(COMMAND=(?P<command>.*?(?P<target>[^ ]+))$)";
    rules.replace(rules.find(from), from.size(), to);
    return rules;
  };
  const std::vector<In> in = {
      {0, ssh("alice", "100")},
      {1 * kSec, new_session("1", "100", "alice")},
      {2 * kSec, ssh("mallory", "200", "198.51.100.66")},
      {3 * kSec, new_session("2", "200", "mallory")},
      {10 * kSec, sudo("alice", "1", "/usr/bin/systemctl enable --now a.timer")},
      {11 * kSec, sudo("mallory", "2", "/usr/bin/systemctl enable --now m.timer")},
      {20 * kSec, timer("a.timer")},
      {21 * kSec, timer("m.timer")},
  };
  SECTION("with prefer: one detection per session, each with its own timer") {
    const auto out = run_all(patch(with_prefer(true)), in);
    REQUIRE(out.size() == 2);
    CHECK(str(out[0].values.at("user")) == "alice");
    CHECK(str(out[0].values.at("unit")) == "a.timer");
    CHECK(str(out[1].values.at("user")) == "mallory");
    CHECK(str(out[1].values.at("unit")) == "m.timer");
    CHECK(out[0].id != out[1].id);
  }
  SECTION("without prefer: every open attempt takes every timer") {
    const auto out = run_all(with_prefer(false), in);
    REQUIRE(out.size() == 4);
    std::set<std::pair<std::string, std::string>> pairs;
    std::set<std::string> ids;
    for (const auto& d : out) {
      pairs.emplace(str(d.values.at("user")), str(d.values.at("unit")));
      ids.insert(d.id);
    }
    CHECK(pairs == std::set<std::pair<std::string, std::string>>{
                       {"alice", "a.timer"}, {"alice", "m.timer"}, {"mallory", "a.timer"}, {"mallory", "m.timer"}});
    CHECK(ids.size() == 4);
  }
  SECTION("near miss: a preference that no attempt satisfies leaves the timer to all of them") {
    auto other_in = in;
    other_in[6] = {20 * kSec, timer("x.timer")};
    other_in.pop_back();
    const auto out = run_all(patch(with_prefer(true)), other_in);
    CHECK(out.size() == 2);
  }
}

TEST_CASE("correlator: one session starting two timers", "[correlator]") {
  auto rules = [](const char* emit) {
    return rules_file({rule("r", std::string(R"({"sequence": ["ssh_login",
        {"event": "sudo_cmd", "join": {"user": "ssh_login.user"}}, "timer_start"], "within": "30m", "emit": ")") + emit + "\"}",
        R"(,"values": {"unit": "timer_start.unit"})")});
  };
  const std::vector<In> in = {{0, ssh("alice", "100")},
                              {1 * kSec, sudo("alice", "1", "/usr/bin/systemctl enable --now a.timer b.timer")},
                              {2 * kSec, timer("a.timer")},
                              {3 * kSec, timer("b.timer")}};
  SECTION("emit once: the first timer completes the attempt; the second has none left") {
    const auto out = run_all(rules("once"), in);
    REQUIRE(out.size() == 1);
    CHECK(str(out[0].values.at("unit")) == "a.timer");
  }
  SECTION("emit each: one detection per timer, sharing the prefix, with distinct ids") {
    const auto out = run_all(rules("each"), in);
    REQUIRE(out.size() == 2);
    CHECK(str(out[0].values.at("unit")) == "a.timer");
    CHECK(str(out[1].values.at("unit")) == "b.timer");
    CHECK(out[0].evidence[0].entry_id == out[1].evidence[0].entry_id);
    CHECK(out[0].id != out[1].id);
    // Each still needs the window: a timer after it closes is not taken.
    auto late = in;
    late.back().t = 30 * kMin + kUs;
    CHECK(run_all(rules("each"), late).size() == 1);
  }
}

TEST_CASE("correlator: emit each on a one-step sequence emits once per entry", "[correlator]") {
  Harness h(abc_rule(R"({"sequence": ["a"], "emit": "each"})"));
  CHECK(h.feed({0, A()}).size() == 1);
  CHECK(h.feed({1 * kSec, A()}).size() == 1);
  CHECK(h.feed({2 * kSec, A()}).size() == 1);
  CHECK(h.feed({3 * kSec, B()}).empty());
  std::set<std::string> ids;
  for (const auto& d : h.all()) ids.insert(d.id);
  CHECK(ids.size() == 3);
  h.finish();
  CHECK(h.stats().partials == 0);
}

// ---------------------------------------------------------------------------------------
// Group correlations

TEST_CASE("correlator: all_of in any order within the window", "[correlator]") {
  const auto rules = abc_rule(R"({"all_of": ["a", "b", "c"], "within": "10m"})", R"(,"values": {"user": "a.user"})");
  const std::vector<std::vector<In>> orders = {
      {{0, C()}, {1 * kMin, A()}, {2 * kMin, B()}},
      {{0, B()}, {1 * kMin, C()}, {2 * kMin, A()}},
      {{0, A()}, {1 * kMin, B()}, {2 * kMin, C()}},
  };
  for (const auto& in : orders) {
    const auto out = run_all(rules, in);
    REQUIRE(out.size() == 1);
    CHECK(out[0].evidence.size() == 3);
    CHECK(rel(out[0].first_us) == 0);
    CHECK(rel(out[0].last_us) == 2 * kMin);
  }
  // Near misses: a member missing; a repeated member is not another member.
  CHECK(run_all(rules, {{0, A()}, {1 * kMin, B()}, {2 * kMin, B()}}).empty());
  // The latest occurrence of a member counts: an old A leaves the window, a new one re-enters.
  const auto out = run_all(rules, {{0, A()}, {9 * kMin, B()}, {10 * kMin + kUs, A()}, {11 * kMin, C()}});
  REQUIRE(out.size() == 1);
  CHECK(rel(out[0].first_us) == 9 * kMin);
  // After firing, the group starts over.
  CHECK(run_all(rules, {{0, A()}, {1, B()}, {2, C()}, {3, A()}, {4, B()}}).size() == 1);
}

TEST_CASE("correlator: count N within T per group", "[correlator]") {
  const auto rules = abc_rule(R"({"count": {"event": "a", "min": 3}, "within": "1m", "by": ["user"]})",
                              R"(,"values": {"users": "a.user"})");
  SECTION("three of one user") {
    Harness h(rules);
    CHECK(h.feed({{0, A("x")}, {10 * kSec, A("x")}}).empty());
    const auto out = h.feed({20 * kSec, A("x")});
    REQUIRE(out.size() == 1);
    CHECK(out[0].values.at("users") == nlohmann::json::array({"x"}));
    CHECK(out[0].group.at("user") == "x");
    CHECK(out[0].evidence.size() == 3);
  }
  SECTION("near miss: three spread over two users") {
    CHECK(run_all(rules, {{0, A("x")}, {10 * kSec, A("y")}, {20 * kSec, A("x")}}).empty());
  }
  SECTION("a sliding window: the oldest falls out") {
    CHECK(run_all(rules, {{0, A("x")}, {50 * kSec, A("x")}, {61 * kSec, A("x")}}).empty());
    CHECK(run_all(rules, {{0, A("x")}, {50 * kSec, A("x")}, {61 * kSec, A("x")}, {62 * kSec, A("x")}}).size() == 1);
  }
  SECTION("after firing the group starts over") {
    CHECK(run_all(rules, {{0, A("x")}, {1, A("x")}, {2, A("x")}, {3, A("x")}, {4, A("x")}}).size() == 1);
    CHECK(run_all(rules, {{0, A("x")}, {1, A("x")}, {2, A("x")}, {3, A("x")}, {4, A("x")}, {5, A("x")}}).size() == 2);
  }
}

TEST_CASE("correlator: distinct N values within T", "[correlator]") {
  const auto rules = abc_rule(R"({"distinct": {"event": "a", "min": 3, "value": "user"}, "within": "5m"})",
                              R"(,"values": {"users": "a.user"})");
  const auto out = run_all(rules, {{0, A("x")}, {1 * kMin, A("y")}, {2 * kMin, A("x")}, {3 * kMin, A("z")}});
  REQUIRE(out.size() == 1);
  auto users = out[0].values.at("users").get<std::vector<std::string>>();
  std::sort(users.begin(), users.end());
  CHECK(users == std::vector<std::string>{"x", "y", "z"});
  // Near misses: repeats of two values; a third value after the first left the window.
  CHECK(run_all(rules, {{0, A("x")}, {1 * kMin, A("y")}, {2 * kMin, A("x")}, {3 * kMin, A("y")}}).empty());
  CHECK(run_all(rules, {{0, A("x")}, {4 * kMin, A("y")}, {5 * kMin + kUs, A("z")}}).empty());
  // A repeated value refreshes its time: x at 4m keeps x in the window.
  CHECK(run_all(rules, {{0, A("x")}, {4 * kMin, A("x")}, {4 * kMin, A("y")}, {5 * kMin + kUs, A("z")}}).size() == 1);
}

TEST_CASE("correlator: entries without the distinct value leave no state behind", "[correlator]") {
  Harness h(abc_rule(R"({"distinct": {"event": "a", "min": 2, "value": "user"}, "within": "1m"})"));
  h.feed({0, {{"_COMM", "a"}}});
  h.advance(2 * kMin);
  CHECK(h.stats().partials == 0);
  h.finish();
  CHECK(h.stats().partials == 0);
  // Near miss: with the value, the state lives until the window passes.
  Harness v(abc_rule(R"({"distinct": {"event": "a", "min": 2, "value": "user"}, "within": "1m"})"));
  v.feed({0, A("x")});
  CHECK(v.stats().partials == 1);
  v.advance(1 * kMin + kUs);
  CHECK(v.stats().partials == 0);
}

// ---------------------------------------------------------------------------------------
// Grouping and scope

TEST_CASE("correlator: by adds keys to the group", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", "b"], "within": "5m", "by": ["user"]})");
  CHECK(run_all(rules, {{0, A("alice")}, {1 * kMin, B("alice")}}).size() == 1);
  CHECK(run_all(rules, {{0, A("alice")}, {1 * kMin, B("bob")}}).empty());
  const auto out = run_all(rules, {{0, A("alice")}, {1, A("bob")}, {2, B("bob")}, {3, B("alice")}});
  REQUIRE(out.size() == 2);
  CHECK(out[0].group.at("user") == "bob");
  CHECK(out[0].group.at("_MACHINE_ID") == "m1");
  CHECK(out[1].group.at("user") == "alice");
}

TEST_CASE("correlator: host scope by default, global on request", "[correlator]") {
  const auto host = abc_rule(R"({"sequence": ["a", "b"], "within": "5m"})");
  const auto global = abc_rule(R"({"sequence": ["a", "b"], "within": "5m"})", R"(,"scope": "global")");
  const std::vector<In> across = {{0, A("u", "m1")}, {1 * kMin, B("u", "m2")}};
  const std::vector<In> same = {{0, A("u", "m2")}, {1 * kMin, B("u", "m2")}};
  CHECK(run_all(host, across).empty());
  const auto s = run_all(host, same);
  REQUIRE(s.size() == 1);
  CHECK(s[0].machine_id == "m2");
  CHECK(s[0].hostname == "host-m2");
  const auto g = run_all(global, across);
  REQUIRE(g.size() == 1);
  CHECK(g[0].group.count("_MACHINE_ID") == 0);
  CHECK(g[0].machine_id.empty());  // it spans hosts: no one host is the detection's
  CHECK(g[0].hostname.empty());
  CHECK(run_all(global, same).size() == 1);
  CHECK(run_all(global, same)[0].machine_id == "m2");
  // A global group outlives its partial matches: the host is the members', not the one
  // that opened the group.
  const auto later = run_all(global, {{0, A("u", "m1")}, {10 * kMin, A("u", "m2")}, {11 * kMin, B("u", "m2")}});
  REQUIRE(later.size() == 1);
  CHECK(later[0].machine_id == "m2");
  CHECK(later[0].hostname == "host-m2");
}

// ---------------------------------------------------------------------------------------
// Suppression, unless, where

TEST_CASE("correlator: suppression per key for a duration", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a"]})", R"(,"suppress": {"by": ["a.user"], "for": "1h"})");
  struct Case {
    const char* name;
    std::vector<In> in;
    std::size_t detections;
  };
  const std::vector<Case> cases = {
      {"a repeat inside the duration", {{0, A("x")}, {30 * kMin, A("x")}}, 1},
      {"a repeat at the end of the duration exactly", {{0, A("x")}, {1 * kHour, A("x")}}, 1},
      {"a repeat one microsecond after it", {{0, A("x")}, {1 * kHour + kUs, A("x")}}, 2},
      {"another key", {{0, A("x")}, {1 * kMin, A("y")}}, 2},
      {"another host", {{0, A("x", "m1")}, {1 * kMin, A("x", "m2")}}, 2},
      {"suppressed repeats do not extend it", {{0, A("x")}, {50 * kMin, A("x")}, {1 * kHour + kUs, A("x")}}, 2},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Harness h(rules);
    h.feed(c.in);
    h.finish();
    CHECK(h.all().size() == c.detections);
    CHECK(h.stats().suppressed == c.in.size() - c.detections);
  }
}

TEST_CASE("correlator: unless drops allowlisted detections", "[correlator]") {
  const std::string lists = R"({"package-managers": {"match": "prefix", "values": ["/usr/bin/apt", "/usr/bin/dpkg"]},
                                "automation": ["ansible", "puppet"]})";
  const std::string rules = rules_file(
      {rule("r", R"({"sequence": ["ssh_login", {"event": "sudo_cmd", "join": {"user": "ssh_login.user"}}, "timer_start"],
                     "within": "30m",
                     "unless": {"any": [{"sudo_cmd.command": {"in_list": "package-managers"}},
                                        {"ssh_login.user": {"in_list": "automation"}}]}})")},
      lists);
  auto chain = [](const std::string& user, const std::string& cmd) {
    return std::vector<In>{{0, ssh(user, "1")}, {1 * kSec, sudo(user, "1", cmd)}, {2 * kSec, timer("x.timer")}};
  };
  struct Case {
    const char* name;
    std::vector<In> in;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"a package manager", chain("alice", "/usr/bin/apt-get install foo"), false},
      {"an automation user", chain("ansible", "/usr/bin/systemctl enable x.timer"), false},
      {"neither", chain("alice", "/usr/bin/systemctl enable x.timer"), true},
      {"a look-alike path", chain("alice", "/tmp/usr/bin/apt-get"), true},
      {"a look-alike user", chain("ansible2", "/usr/bin/systemctl enable x.timer"), true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Harness h(rules);
    h.feed(c.in);
    h.finish();
    CHECK(h.all().size() == (c.fires ? 1u : 0u));
    CHECK(h.stats().allowlisted == (c.fires ? 0u : 1u));
  }
}

TEST_CASE("correlator: where must hold to emit", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", "b"], "within": "5m",
                                  "where": {"a.n": {"ge": 10}, "b.user": {"not": {"eq": "root"}}}})");
  auto a = [](const char* n) { return Fields{{"_COMM", "a"}, {"N", n}}; };
  CHECK(run_all(rules, {{0, a("10")}, {1, B("alice")}}).size() == 1);
  CHECK(run_all(rules, {{0, a("9")}, {1, B("alice")}}).empty());
  CHECK(run_all(rules, {{0, a("10")}, {1, B("root")}}).empty());
}

// ---------------------------------------------------------------------------------------
// Detections feeding other rules

TEST_CASE("correlator: a detection feeds another rule", "[correlator]") {
  const std::string rules = R"({"events":)" + kAbc + R"(,"rules":[
    {"id":"agg","title":"t","severity":"critical",
     "events":{"hit":{"from":"detections","where":{"rule":"base","severity":"high"},"capture":{"who":"user"}}},
     "correlate":{"count":{"event":"hit","min":2},"within":"1h","by":["who"]},
     "values":{"who":"hit.who"}},
    {"id":"base","title":"base","severity":"high","correlate":{"sequence":["a","b"],"within":"1m","by":["user"]},
     "values":{"user":"a.user"}}]})";
  Harness h(rules);
  h.feed({{0, A("x")}, {1 * kSec, B("x")}});
  REQUIRE(h.all().size() == 1);
  CHECK(h.all()[0].rule_id == "base");
  h.feed({{10 * kMin, A("y")}, {10 * kMin + kSec, B("y")}});  // another user: another group
  CHECK(h.all().size() == 2);
  const auto out = h.feed({{20 * kMin, A("x")}, {20 * kMin + kSec, B("x")}});
  REQUIRE(out.size() == 2);
  CHECK(out[0].rule_id == "base");
  CHECK(out[1].rule_id == "agg");
  CHECK(out[1].time_us == out[0].time_us);
  CHECK(out[1].values.at("who") == nlohmann::json::array({"x"}));
  REQUIRE(out[1].evidence.size() == 2);
  CHECK(out[1].evidence[1].cursor == "detection=" + out[0].id);
  CHECK(out[1].evidence[1].entry_id == "detection=" + out[0].id);
  CHECK(out[1].evidence[1].message == "base");
  CHECK(h.finish().empty());
}

// ---------------------------------------------------------------------------------------
// Bounded state and identity

TEST_CASE("correlator: the partial-match cap evicts the oldest first and counts it", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "join": {"user": "a.user"}}], "within": "1h"})");
  core::CorrelatorOptions opts;
  opts.max_partials_per_rule = 2;
  Harness h(rules, opts);
  h.feed({{0, A("u1")}, {1, A("u2")}});
  CHECK(h.stats().evicted == 0);
  CHECK(h.stats().partials == 2);
  h.feed({2, A("u3")});
  CHECK(h.stats().evicted == 1);
  CHECK(h.stats().partials == 2);
  CHECK(h.feed({3, B("u1")}).empty());  // its attempt was the oldest: gone
  CHECK(h.feed({4, B("u2")}).size() == 1);
  CHECK(h.feed({5, B("u3")}).size() == 1);
  // Near miss: under the cap nothing is evicted.
  core::CorrelatorOptions roomy;
  roomy.max_partials_per_rule = 3;
  Harness r(rules, roomy);
  r.feed({{0, A("u1")}, {1, A("u2")}, {2, A("u3")}, {3, B("u1")}});
  CHECK(r.all().size() == 1);
  CHECK(r.stats().evicted == 0);
}

TEST_CASE("correlator: deadlines survive the compaction of stale ones", "[correlator]") {
  // Every absorbed entry reschedules its partial match; thousands of them leave stale
  // deadlines behind, which are compacted away. The live deadlines must still hold.
  const auto rules = abc_rule(R"({"sequence": ["a", {"event": "b", "repeat": "1+"}, "c"], "within": "1h", "by": ["user"]})");
  Harness h(rules);
  h.feed({0, A("x")});
  h.feed({1, A("y")});
  for (int i = 0; i < 5000; ++i) h.feed({2 + i, B(i % 2 ? "x" : "y")});
  CHECK(h.all().empty());
  CHECK(h.stats().partials == 2);
  const auto x = h.feed({1 * kHour, C("x")});  // at the edge of x's window
  REQUIRE(x.size() == 1);
  CHECK(x[0].group.at("user") == "x");
  CHECK(x[0].evidence.size() == 64);
  CHECK(x[0].evidence_omitted == 2502 - 64);
  CHECK(h.stats().expired == 0);
  CHECK(h.feed({1 * kHour + 1, C("u")}).empty());
  CHECK(h.stats().expired == 0);  // y's window closes at 1h + 1µs, inclusive
  CHECK(h.feed({1 * kHour + 1 + kUs, C("y")}).empty());
  CHECK(h.stats().expired == 1);
  CHECK(h.stats().partials == 0);
}

TEST_CASE("correlator: detection ids are the rule id and the member entries", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", "b"], "within": "5m"})");
  const std::vector<In> in = {{0, A()}, {1 * kMin, B()}};
  const auto one = run_all(rules, in);
  const auto two = run_all(rules, in);
  REQUIRE(one.size() == 1);
  REQUIRE(two.size() == 1);
  CHECK(one[0].id == two[0].id);
  // SHA-256 over "r", then "\n" and each member's entry id, first 16 bytes in hex.
  core::Sha256 sha;
  sha.update("r");
  for (const auto& e : one[0].evidence) {
    sha.update("\n");
    sha.update(e.entry_id);
  }
  const auto digest = sha.finish();
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 16; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  CHECK(one[0].id == hex);
  CHECK(one[0].evidence[0].entry_id == "b=boot;m=1;t=" + std::to_string(test::kEpoch) + ";x=0");
  // Another member entry, another id; the same entries under another rule id, another id.
  const auto moved = run_all(rules, {{0, A()}, {2 * kMin, B()}});
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].id != one[0].id);
  std::string renamed = rules;
  renamed.replace(renamed.find(R"("id":"r")"), 8, R"("id":"s")");
  const auto other_rule = run_all(renamed, in);
  REQUIRE(other_rule.size() == 1);
  CHECK(other_rule[0].id != one[0].id);
  // The id does not depend on the cursor's s= and i= (journal-remote renumbers them).
  core::Event a = make(*test::load_ok(rules), in[0], 0);
  core::Event b = a;
  b.cursor = "s=ffff;i=99;b=boot;m=1;t=" + std::to_string(test::kEpoch) + ";x=0";
  CHECK(a.entry_id() == b.entry_id());
}

TEST_CASE("correlator: a template value names other values, whatever their names' order", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a"]})", R"(,"values": {"a_line": "{z_user}@{_HOSTNAME}", "z_user": "a.user"},
                                                          "summary": "{z_user} on {_HOSTNAME}")");
  const auto out = run_all(rules, {{0, A("alice")}});
  REQUIRE(out.size() == 1);
  CHECK(str(out[0].values.at("a_line")) == "alice@host-m1");
  CHECK(out[0].summary == "alice on host-m1");
  // A reference with no value renders as "?" in a template, and is null as a value.
  const auto none = run_all(abc_rule(R"({"sequence": ["a"]})", R"(,"values": {"u": "a.user", "t": "<{a.user}>"})"), {{0, {{"_COMM", "a"}}}});
  REQUIRE(none.size() == 1);
  CHECK(none[0].values.at("u").is_null());
  CHECK(str(none[0].values.at("t")) == "<?>");
}

TEST_CASE("correlator: detection JSON", "[correlator]") {
  const auto rules = abc_rule(R"({"sequence": ["a", "b"], "within": "5m"})",
                              R"(,"attack": ["T1053.006"], "tags": ["persistence"], "values": {"user": "a.user", "line": "{a.user}@{_HOSTNAME}"},
                                 "summary": "{a.user} did {{it}}")");
  const auto out = run_all(rules, {{0, A("alice")}, {1 * kMin + 5, B("alice")}});
  REQUIRE(out.size() == 1);
  const auto j = core::to_json(out[0]);
  CHECK(j.at("id") == out[0].id);
  CHECK(j.at("rule") == "r");
  CHECK(j.at("attack") == nlohmann::json::array({"T1053.006"}));
  CHECK(j.at("tags") == nlohmann::json::array({"persistence"}));
  CHECK(j.at("summary") == "alice did {it}");
  CHECK(j.at("host") == nlohmann::json({{"machine_id", "m1"}, {"hostname", "host-m1"}}));
  CHECK(j.at("values") == nlohmann::json({{"user", "alice"}, {"line", "alice@host-m1"}}));
  CHECK(j.at("first") == "2026-11-26T12:10:00.000000Z");
  CHECK(j.at("last") == "2026-11-26T12:11:00.000005Z");
  CHECK(j.at("time_us") == out[0].time_us);
  CHECK(j.at("evidence").size() == 2);
  CHECK(j.at("evidence")[0].at("fields").at("_COMM") == "a");
  CHECK_FALSE(j.contains("window_truncated"));
  CHECK_FALSE(j.contains("evidence_omitted"));
  CHECK(core::to_json_line(out[0]).back() == '\n');
}
