// Loader diagnostics: every class of mistake a rule author can make, each reported with
// its stable code and JSON pointer, and each next to a corrected twin that loads cleanly.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core_test_util.h"

using namespace jcorr;

namespace {

// A minimal rule with two trusted events; cases replace parts of it.
std::string rule(const std::string& events, const std::string& correlate, const std::string& extra = "",
                 const std::string& id = "r") {
  return R"({"id":")" + id + R"(","title":"t","severity":"low","events":)" + events + R"(,"correlate":)" + correlate +
         extra + "}";
}

const std::string kEvents = R"J({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"^(?P<user>\\S+) (?P<ip>\\S+)"}}},
                                 "b":{"where":{"_COMM":"b"},"capture":{"leader":"LEADER"}}})J";
const std::string kSeq = R"({"sequence":["a","b"],"within":"5m"})";

struct Loaded {
  std::unique_ptr<core::RuleSet> set;
  std::vector<core::Diagnostic> diags;
};

Loaded load(const std::vector<std::pair<std::string, std::string>>& files, core::LoadOptions opts = {}) {
  core::RuleLoader loader(std::move(opts));
  for (const auto& [origin, text] : files) loader.add(text, origin);
  Loaded l;
  l.set = loader.finish();
  l.diags = loader.diagnostics();
  return l;
}

Loaded load(const std::string& text) { return load({{"test.json", text}}); }

std::size_t count_errors(const std::vector<core::Diagnostic>& ds) {
  std::size_t n = 0;
  for (const auto& d : ds) n += d.severity == core::Severity::kError ? 1 : 0;
  return n;
}

const core::Diagnostic* find(const std::vector<core::Diagnostic>& ds, std::string_view code, std::string_view pointer) {
  for (const auto& d : ds)
    if (d.code == code && d.pointer == pointer) return &d;
  return nullptr;
}

struct Case {
  const char* name;
  std::string bad;         // a file with exactly this one problem
  std::string good;        // the near-miss twin: the same file, corrected
  std::string_view code;
  std::string pointer;
  core::Severity severity = core::Severity::kError;
};

}  // namespace

TEST_CASE("loader: each mistake is reported with its code and pointer; its corrected twin loads", "[loader]") {
  const std::string ev_user = R"J({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"^(?P<user>\\S+)"}}},"b":{"where":{"_COMM":"b"}}})J";
  const std::vector<Case> cases = {
      {"unknown rule key with a suggestion", rule(kEvents, kSeq, R"(,"sumary":"x")"), rule(kEvents, kSeq, R"(,"summary":"x")"),
       core::codes::kKeyUnknown, "/sumary"},
      {"unknown step key", rule(kEvents, R"({"sequence":["a",{"event":"b","optinal":true},{"event":"a","as":"a2"}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","optional":true},{"event":"a","as":"a2"}],"within":"5m"})"),
       core::codes::kKeyUnknown, "/correlate/sequence/1/optinal"},
      {"missing required key", R"({"id":"r","severity":"low","events":)" + kEvents + R"(,"correlate":)" + kSeq + "}",
       rule(kEvents, kSeq), core::codes::kKeyMissing, ""},
      {"wrong type of a key", rule(kEvents, kSeq, R"(,"attack":"T1053.006")"), rule(kEvents, kSeq, R"(,"attack":["T1053.006"])"),
       core::codes::kTypeMismatch, "/attack"},
      {"wrong type of a where", rule(R"({"a":{"where":["_COMM"]},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a"}},"b":{"where":{"_COMM":"b"}}})", kSeq), core::codes::kTypeMismatch, "/events/a/where"},
      {"wrong type of an operand", rule(R"({"a":{"where":{"_COMM":"a","_UID":{"gt":"1000"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a","_UID":{"gt":1000}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kTypeMismatch, "/events/a/where/_UID/gt"},
      {"bad value", rule(kEvents, kSeq, R"(,"scope":"everywhere")"), rule(kEvents, kSeq, R"(,"scope":"global")"),
       core::codes::kValueInvalid, "/scope"},
      {"bad severity", R"({"id":"r","title":"t","severity":"urgent","events":)" + kEvents + R"(,"correlate":)" + kSeq + "}",
       rule(kEvents, kSeq), core::codes::kValueInvalid, "/severity"},
      {"bad ATT&CK id", rule(kEvents, kSeq, R"(,"attack":["T1053.6"])"), rule(kEvents, kSeq, R"(,"attack":["T1053.006","TA0003"])"),
       core::codes::kValueInvalid, "/attack/0"},
      {"bad rule id", rule(kEvents, kSeq, "", "Bad Id"), rule(kEvents, kSeq, "", "good-id.v2"), core::codes::kIdInvalid, "/id"},
      {"bad regex", rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(fail"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"\\(fail"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kRegexInvalid, "/events/a/where/MESSAGE/regex"},
      {"bad capture group name", rule(R"J({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(?P<User>x)"}}},"b":{"where":{"_COMM":"b"}}})J", kSeq),
       rule(R"J({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(?P<user>x)"}}},"b":{"where":{"_COMM":"b"}}})J", kSeq),
       core::codes::kValueInvalid, "/events/a/where/MESSAGE/regex"},
      {"regex over the repetition budget", rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(a{1000}){1000}"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(a{10}){100}"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kRegexTooLarge, "/events/a/where/MESSAGE/regex"},
      {"regex over the memory budget", rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"\\pL{1000}\\pL{1000}\\pL{1000}"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"\\pL{100}"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kRegexTooLarge, "/events/a/where/MESSAGE/regex"},
      {"invalid field name", rule(R"({"a":{"where":{"_COMM":"a","comm":"x"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a","COMM":"x"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kFieldInvalid, "/events/a/where/comm"},
      {"invalid captured field", rule(R"({"a":{"where":{"_COMM":"a"},"capture":{"pid":"_pid"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a"},"capture":{"pid":"_PID"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kFieldInvalid, "/events/a/capture/pid"},
      {"invalid group key", rule(kEvents, R"({"sequence":["a","b"],"within":"5m","by":["Bad-Key"]})"),
       rule(kEvents, R"({"sequence":["a","b"],"within":"5m","by":["_UID"]})"), core::codes::kFieldInvalid, "/correlate/by"},
      {"unknown operator", rule(R"({"a":{"where":{"_COMM":{"startswith":"a"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":{"prefix":"a"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kOperatorUnknown, "/events/a/where/_COMM/startswith"},
      {"unknown event in a step", rule(kEvents, R"({"sequence":["a",{"event":"c"}],"within":"5m"})"), rule(kEvents, kSeq),
       core::codes::kEventUnknown, "/correlate/sequence/1/event"},
      {"unknown event in any_of", rule(kEvents, R"({"sequence":["a",{"any_of":["b","c"],"as":"x"}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"any_of":["b","a"],"as":"x"}],"within":"5m"})"),
       core::codes::kEventUnknown, "/correlate/sequence/1/any_of/1"},
      {"any_of without as", rule(kEvents, R"({"sequence":["a",{"any_of":["b","a"]}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"any_of":["b","a"],"as":"x"}],"within":"5m"})"),
       core::codes::kKeyMissing, "/correlate/sequence/1"},
      {"unknown step in a reference", rule(kEvents, kSeq, R"(,"values":{"u":"login.user"})"),
       rule(kEvents, kSeq, R"(,"values":{"u":"a.user"})"), core::codes::kStepUnknown, "/values/u"},
      {"not a reference", rule(kEvents, kSeq, R"(,"values":{"u":"user"})"), rule(kEvents, kSeq, R"(,"values":{"u":"a.user"})"),
       core::codes::kRefInvalid, "/values/u"},
      {"join on a value never captured", rule(ev_user, R"({"sequence":["a",{"event":"b","join":{"user":"a.user"}}],"within":"5m"})"),
       rule(ev_user, R"({"sequence":["a",{"event":"b","join":{"USER_ID":"a.user"}}],"within":"5m"})"),
       core::codes::kCaptureUnknown, "/correlate/sequence/1/join/user"},
      {"join to a capture the step lacks", rule(kEvents, R"({"sequence":["a",{"event":"b","join":{"leader":"a.pid"}}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","join":{"leader":"a._PID"}}],"within":"5m"})"),
       core::codes::kCaptureUnknown, "/correlate/sequence/1/join/leader"},
      {"join to a later step", rule(kEvents, R"({"sequence":[{"event":"a","join":{"user":"b.leader"}},"b"],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","join":{"leader":"a.user"}}],"within":"5m"})"),
       core::codes::kStepOrder, "/correlate/sequence/0/join/user"},
      {"join to itself", rule(kEvents, R"({"sequence":["a",{"event":"b","join":{"leader":"b.leader"}}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","join":{"leader":"a.ip"}}],"within":"5m"})"),
       core::codes::kStepOrder, "/correlate/sequence/1/join/leader"},
      {"two steps with one name", rule(kEvents, R"({"sequence":["a","b","b"],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a","b",{"event":"b","as":"b2"}],"within":"5m"})"),
       core::codes::kStepDuplicate, "/correlate/sequence/2"},
      {"unknown list", rule(kEvents, R"({"sequence":["a","b"],"within":"5m","unless":{"a.user":{"in_list":"admins"}}})"),
       R"({"lists":{"admins":["root"]},"rules":[)" +
           rule(kEvents, R"({"sequence":["a","b"],"within":"5m","unless":{"a.user":{"in_list":"admins"}}})") + "]}",
       core::codes::kListUnknown, "/correlate/unless/a.user/in_list"},
      {"bad duration", rule(kEvents, R"({"sequence":["a","b"],"within":"5 minutes"})"), rule(kEvents, R"({"sequence":["a","b"],"within":"5min"})"),
       core::codes::kDurationInvalid, "/correlate/within"},
      {"duration without a unit", rule(kEvents, R"({"sequence":["a","b"],"within":"300"})"), rule(kEvents, R"({"sequence":["a","b"],"within":"300s"})"),
       core::codes::kDurationInvalid, "/correlate/within"},
      {"zero duration", rule(kEvents, kSeq, R"(,"suppress":{"for":"0s"})"), rule(kEvents, kSeq, R"(,"suppress":{"for":"1s"})"),
       core::codes::kDurationInvalid, "/suppress/for"},
      {"trailing optional step", rule(kEvents, R"({"sequence":["a",{"event":"b","optional":true}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":[{"event":"a","optional":true},"b"],"within":"5m"})"),
       core::codes::kStepInvalid, "/correlate/sequence/1"},
      {"trailing absent step without a window", rule(kEvents, R"({"sequence":["a",{"event":"b","absent":true}]})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","absent":true,"within":"1m"}]})"), core::codes::kStepInvalid,
       "/correlate/sequence/1"},
      {"absent step also repeated", rule(kEvents, R"({"sequence":["a",{"event":"b","absent":true,"repeat":2}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","absent":true}],"within":"5m"})"), core::codes::kStepInvalid, "/correlate/sequence/1"},
      {"only absent and optional steps", rule(kEvents, R"({"sequence":[{"event":"a","absent":true}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":[{"event":"a","absent":true},"b"],"within":"5m"})"), core::codes::kStepInvalid, "/correlate/sequence"},
      {"bad repeat", rule(kEvents, R"({"sequence":["a",{"event":"b","repeat":"2++"}],"within":"5m"})"),
       rule(kEvents, R"({"sequence":["a",{"event":"b","repeat":"2+"}],"within":"5m"})"), core::codes::kValueInvalid, "/correlate/sequence/1/repeat"},
      {"missing within", rule(kEvents, R"({"sequence":["a","b"]})"), rule(kEvents, R"({"sequence":["a",{"event":"b","within":"1m"}]})"),
       core::codes::kKeyMissing, "/correlate"},
      {"count without within", rule(R"({"a":{"where":{"_COMM":"a"}}})", R"({"count":{"event":"a","min":3}})"),
       rule(R"({"a":{"where":{"_COMM":"a"}}})", R"({"count":{"event":"a","min":3},"within":"1m"})"), core::codes::kKeyMissing, "/correlate"},
      {"two correlation kinds", rule(kEvents, R"({"sequence":["a","b"],"all_of":["a","b"],"within":"5m"})"), rule(kEvents, kSeq),
       core::codes::kCorrelateInvalid, "/correlate"},
      {"until on a count", rule(kEvents, R"({"count":{"event":"a","min":3},"within":"1m","until":"b"})"),
       rule(kEvents, R"({"sequence":[{"event":"a","repeat":3}],"within":"1m","until":"b"})"),
       core::codes::kCorrelateInvalid, "/correlate/until"},
      {"joins in all_of", rule(kEvents, R"({"all_of":["a",{"event":"b","join":{"leader":"a.user"}}],"within":"5m"})"),
       rule(kEvents, R"({"all_of":["a","b"],"within":"5m","by":["_UID"]})"), core::codes::kStepInvalid, "/correlate/all_of/1/join"},
      {"distinct on a value never captured", rule(R"({"a":{"where":{"_COMM":"a"}}})", R"({"distinct":{"event":"a","min":3,"value":"user"},"within":"1m"})"),
       rule(R"({"a":{"where":{"_COMM":"a"}}})", R"({"distinct":{"event":"a","min":3,"value":"_UID"},"within":"1m"})"),
       core::codes::kCaptureUnknown, "/correlate/distinct/value"},
      {"group key an event does not capture", rule(kEvents, R"({"sequence":["a","b"],"within":"5m","by":["user"]})"),
       rule(R"J({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"^(?P<user>\\S+)"}}},"b":{"where":{"_COMM":"b"},"capture":{"user":"USER_ID"}}})J",
            R"({"sequence":["a","b"],"within":"5m","by":["user"]})"),
       core::codes::kCaptureUnknown, "/correlate/by"},
      {"group key an until event does not capture",
       rule(R"({"a":{"where":{"_COMM":"a"},"capture":{"user":"USER"}},"b":{"where":{"_COMM":"b"},"capture":{"user":"USER"}},
                "c":{"where":{"_COMM":"c"}}})", R"({"sequence":["a","b"],"within":"5m","by":["user"],"until":"c"})"),
       rule(R"({"a":{"where":{"_COMM":"a"},"capture":{"user":"USER"}},"b":{"where":{"_COMM":"b"},"capture":{"user":"USER"}},
                "c":{"where":{"_COMM":"c"},"capture":{"user":"USER_ID"}}})", R"({"sequence":["a","b"],"within":"5m","by":["user"],"until":"c"})"),
       core::codes::kCaptureUnknown, "/correlate/by"},
      {"unclosed template brace", rule(kEvents, kSeq, R"(,"summary":"{a.user} from {a.ip")"),
       rule(kEvents, kSeq, R"(,"summary":"{a.user} from {a.ip}")"), core::codes::kTemplateInvalid, "/summary"},
      {"stray template brace", rule(kEvents, kSeq, R"(,"summary":"x} {a.user}")"), rule(kEvents, kSeq, R"(,"summary":"x}} {a.user}")"),
       core::codes::kTemplateInvalid, "/summary"},
      {"template reference to an unknown capture", rule(kEvents, kSeq, R"(,"summary":"{a.usr}")"),
       rule(kEvents, kSeq, R"(,"summary":"{a.user} {{literal}}")"), core::codes::kCaptureUnknown, "/summary"},
      {"bad test", rule(kEvents, kSeq, R"(,"tests":[{"name":"x","events":[],"expect":{}}])"),
       rule(kEvents, kSeq, R"(,"tests":[{"name":"x","events":[],"expect":[]}])"), core::codes::kTypeMismatch, "/tests/0/expect"},
      {"untrusted event", rule(R"({"a":{"where":{"SYSLOG_IDENTIFIER":"sshd"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"SYSLOG_IDENTIFIER":"sshd","_COMM":"sshd"}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kUntrusted, "/events/a/where", core::Severity::kWarning},
      {"trusted only under a negation", rule(R"({"a":{"where":{"MESSAGE":"x","not":{"_COMM":"y"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"MESSAGE":"x","_UID":"0","not":{"_COMM":"y"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kUntrusted, "/events/a/where", core::Severity::kWarning},
      {"one untrusted alternative", rule(R"({"a":{"where":{"any":[{"_COMM":"su"},{"SYSLOG_IDENTIFIER":"su"}]}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       rule(R"({"a":{"where":{"any":[{"_COMM":"su"},{"_EXE":"/bin/su"}]}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       core::codes::kUntrusted, "/events/a/where", core::Severity::kWarning},
      {"unused event", rule(R"({"a":{"where":{"_COMM":"a"}},"b":{"where":{"_COMM":"b"}},"c":{"where":{"_COMM":"c"}}})", kSeq),
       rule(R"({"a":{"where":{"_COMM":"a"}},"b":{"where":{"_COMM":"b"}},"c":{"where":{"_COMM":"c"}}})",
            R"({"sequence":["a","b"],"within":"5m","until":"c"})"),
       core::codes::kEventUnused, "/events/c", core::Severity::kWarning},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto bad = load(c.bad);
      INFO("bad:\n" << test::dump(bad.diags));
      const core::Diagnostic* d = find(bad.diags, c.code, c.pointer);
      REQUIRE(d != nullptr);
      CHECK(d->severity == c.severity);
      CHECK(d->origin == "test.json");
      CHECK(d->line >= 1);
      CHECK_FALSE(d->message.empty());
      if (c.severity == core::Severity::kError) {
        CHECK(bad.set->rules.empty());  // a rule with an error is left out
        CHECK_FALSE(d->rule_id.empty());
      } else {
        CHECK(count_errors(bad.diags) == 0);
        CHECK(bad.set->rules.size() == 1);
      }
      const auto good = load(c.good);
      INFO("good:\n" << test::dump(good.diags));
      CHECK(good.diags.empty());
      CHECK(good.set->rules.size() == 1);
    }
  }
}

TEST_CASE("loader: hints and the regex engine's own words", "[loader]") {
  struct Hint {
    std::string text;
    std::string pointer;
    std::string message_part;
  };
  const std::vector<Hint> hints = {
      {rule(kEvents, kSeq, R"(,"sumary":"x")"), "/sumary", R"(did you mean "summary"?)"},
      {rule(kEvents, R"({"sequence":["a","b"],"within":"5m","unles":{"a.user":"x"}})"), "/correlate/unles",
       R"(did you mean "unless"?)"},
      {rule(R"({"a":{"where":{"_COMM":{"regx":"a"}}},"b":{"where":{"_COMM":"b"}}})", kSeq), "/events/a/where/_COMM/regx",
       R"(did you mean "regex"?)"},
      {rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(fail"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       "/events/a/where/MESSAGE/regex", "missing ): (fail"},
      {rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"a**"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       "/events/a/where/MESSAGE/regex", "bad repetition operator: **"},
      {rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"(a{1000}){1000}"}}},"b":{"where":{"_COMM":"b"}}})", kSeq),
       "/events/a/where/MESSAGE/regex", "invalid repetition size"},
      {rule(kEvents, R"({"sequence":["a","b"],"within":"5q"})"), "/correlate/within", R"(unknown unit "q")"},
  };
  for (const auto& h : hints) {
    const auto l = load(h.text);
    INFO(test::dump(l.diags));
    bool found = false;
    for (const auto& d : l.diags)
      if (d.pointer == h.pointer && d.message.find(h.message_part) != std::string::npos) found = true;
    CHECK(found);
  }
  // No hint when nothing is close.
  const auto far = load(rule(kEvents, kSeq, R"(,"zzzzzzzz":"x")"));
  REQUIRE(far.diags.size() == 1);
  CHECK(far.diags[0].message.find("did you mean") == std::string::npos);
}

TEST_CASE("loader: a regex diagnostic is RE2's message, once", "[loader]") {
  struct R {
    std::string pattern;
    std::string_view code;
    std::string message;
  };
  const std::vector<R> cases = {
      {"(fail", core::codes::kRegexInvalid, "invalid regex: missing ): (fail"},
      {"a**", core::codes::kRegexInvalid, "invalid regex: bad repetition operator: **"},
      {"(a{1000}){1000}", core::codes::kRegexTooLarge, "regex too large for the matching budget: invalid repetition size: {1000}"},
      {"a{1001}", core::codes::kRegexTooLarge, "regex too large for the matching budget: invalid repetition size: {1001}"},
  };
  for (const auto& c : cases) {
    const auto l = load(rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":")" + c.pattern + R"("}}}})", R"({"sequence":["a"]})"));
    REQUIRE(l.diags.size() == 1);
    CHECK(l.diags[0].code == c.code);
    CHECK(l.diags[0].message == c.message);
  }
  // The near miss: at the limit, and under the memory budget.
  CHECK(load(rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"a{1000}"}}}})", R"({"sequence":["a"]})")).diags.empty());
  // A smaller memory budget refuses what the default accepts.
  core::LoadOptions tight;
  tight.regex_max_mem = 1 << 16;
  const std::string wide = rule(R"({"a":{"where":{"_COMM":"a","MESSAGE":{"regex":"\\pL{200}"}}}})", R"({"sequence":["a"]})");
  CHECK(load(wide).diags.empty());
  CHECK(test::has_code(load({{"test.json", wide}}, tight).diags, core::codes::kRegexTooLarge, "/events/a/where/MESSAGE/regex"));
}

TEST_CASE("loader: bad JSON is reported at its line and column", "[loader]") {
  struct Syntax {
    std::string text;
    std::uint32_t line, column;
  };
  const std::vector<Syntax> cases = {
      {"{\n  \"rules\": [\n    {\"id\": 1,}\n  ]\n}\n", 3, 14},
      {"{\"rules\": [\n", 2, 1},
      {"\n\n   nope", 3, 5},                         // where the parser stopped: at the 'o'
      {"{\"id\": \"r\" \"title\": \"t\"}", 1, 18},  // at the end of the unexpected token
  };
  for (const auto& c : cases) {
    const auto l = load(c.text);
    INFO(c.text << "\n" << test::dump(l.diags));
    REQUIRE(l.diags.size() == 1);
    const auto& d = l.diags[0];
    CHECK(d.code == core::codes::kJsonSyntax);
    CHECK(d.line == c.line);
    CHECK(d.column == c.column);
    CHECK(d.pointer.empty());
    // The message is the parser's reason, without the library's exception prefix.
    CHECK(d.message.find("json.exception") == std::string::npos);
    CHECK(d.message.find("syntax error") == 0);
    CHECK(l.set->rules.empty());
  }
  // A number too large for a double: nlohmann throws out_of_range, not parse_error.
  const auto big = load("{\"rules\": [{\"id\": \"r\", \"n\": 1e400}]}");
  REQUIRE(big.diags.size() == 1);
  CHECK(big.diags[0].code == core::codes::kJsonSyntax);
  CHECK(big.diags[0].message == "number overflow parsing '1e400'");
  // The near-miss: the same document, well formed.
  const auto ok = load("{\n  \"rules\": [\n  ]\n}\n");
  CHECK(ok.diags.empty());
}

TEST_CASE("loader: line and column point at the offending member", "[loader]") {
  const std::string text =
      "{\n"                                                   // 1
      "  \"rules\": [\n"                                      // 2
      "    {\n"                                               // 3
      "      \"id\": \"r\", \"title\": \"t\", \"severity\": \"low\",\n"  // 4
      "      \"events\": {\n"                                 // 5
      "        \"a\": {\"where\": {\"_COMM\": \"a\",\n"       // 6
      "                        \"MESSAGE\": {\"regex\": \"(x\"}}},\n"  // 7
      "        \"b\": {\"where\": {\"_COMM\": {\"sufix\": \".timer\"}}}\n"  // 8
      "      },\n"                                            // 9
      "      \"correlate\": {\"sequence\": [\"a\", \"b\"], \"within\": \"5m\",\n"  // 10
      "                    \"emit\": \"every time\"}\n"       // 11
      "    }\n"                                               // 12
      "  ]\n"                                                 // 13
      "}\n";
  const auto l = load(text);
  INFO(test::dump(l.diags));
  struct Where {
    std::string_view code;
    std::string pointer;
    std::uint32_t line, column;
  };
  const std::vector<Where> want = {
      {core::codes::kRegexInvalid, "/rules/0/events/a/where/MESSAGE/regex", 7, 46},
      {core::codes::kOperatorUnknown, "/rules/0/events/b/where/_COMM/sufix", 8, 44},
      {core::codes::kValueInvalid, "/rules/0/correlate/emit", 11, 29},
  };
  for (const auto& w : want) {
    const auto* d = find(l.diags, w.code, w.pointer);
    REQUIRE(d != nullptr);
    CHECK(d->line == w.line);
    CHECK(d->column == w.column);
    CHECK(d->to_string().starts_with("test.json:" + std::to_string(w.line) + ":" + std::to_string(w.column) + ":" +
                                     w.pointer + " [r] error " + std::string(w.code) + ": "));
  }
  CHECK(count_errors(l.diags) == want.size());
}

TEST_CASE("loader: every problem in every rule and list is reported at once", "[loader]") {
  const std::string text = R"({
  "lists": {
    "pm": {"match": "sideways", "values": ["dpkg"]},
    "re": {"match": "regex", "values": ["ok", "(bad"]},
    "fine": ["a", "b"]
  },
  "rules": [
    {"id": "one", "title": "t", "severity": "low", "colour": "red",
     "events": {"a": {"where": {"_COMM": {"regx": "a"}}}, "b": {"where": {"_COMM": "b", "MESSAGE": {"regex": "(?P<user>"}}}},
     "correlate": {"sequence": ["a", {"event": "b", "within": "5 min"}], "within": "5m", "emit": "twice"},
     "summary": "{a.nothing"},
    {"id": "two", "title": "t", "severity": "low",
     "events": {"a": {"where": {"_COMM": "a", "bad-name": "x"}}, "b": {"where": {"_COMM": "b"}}},
     "correlate": {"sequence": [{"event": "a", "join": {"_UID": "b.y"}}, "b"], "within": "5m",
                   "unless": {"a._UID": {"in_list": "missing"}}},
     "suppress": {"by": ["nope.x"], "for": "1 hour"}},
    {"id": "one", "title": "t", "severity": "low", "events": {}, "correlate": {}},
    {"id": "good", "title": "t", "severity": "low",
     "events": {"a": {"where": {"_COMM": "a"}}}, "correlate": {"count": {"event": "a", "min": 2}, "within": "1m"},
     "unless": 1},
    {"id": "fine-rule", "title": "t", "severity": "low",
     "events": {"a": {"where": {"_COMM": "a"}}}, "correlate": {"count": {"event": "a", "min": 2}, "within": "1m"}}
  ]
})";
  const auto l = load(text);
  INFO(test::dump(l.diags));
  const std::vector<std::pair<std::string_view, std::string>> want = {
      {core::codes::kValueInvalid, "/lists/pm/match"},
      {core::codes::kRegexInvalid, "/lists/re"},
      {core::codes::kKeyUnknown, "/rules/0/colour"},
      {core::codes::kOperatorUnknown, "/rules/0/events/a/where/_COMM/regx"},
      {core::codes::kRegexInvalid, "/rules/0/events/b/where/MESSAGE/regex"},
      {core::codes::kDurationInvalid, "/rules/0/correlate/sequence/1/within"},
      {core::codes::kValueInvalid, "/rules/0/correlate/emit"},
      {core::codes::kTemplateInvalid, "/rules/0/summary"},
      {core::codes::kFieldInvalid, "/rules/1/events/a/where/bad-name"},
      {core::codes::kStepOrder, "/rules/1/correlate/sequence/0/join/_UID"},
      {core::codes::kListUnknown, "/rules/1/correlate/unless/a._UID/in_list"},
      {core::codes::kStepUnknown, "/rules/1/suppress/by/0"},
      {core::codes::kDurationInvalid, "/rules/1/suppress/for"},
      {core::codes::kIdDuplicate, "/rules/2/id"},
      {core::codes::kKeyUnknown, "/rules/3/unless"},
  };
  for (const auto& [code, pointer] : want) {
    INFO(code << " at " << pointer);
    CHECK(find(l.diags, code, pointer) != nullptr);
  }
  CHECK(count_errors(l.diags) == want.size());
  // The rule and list without problems still load; the others are left out.
  REQUIRE(l.set->rules.size() == 1);
  CHECK(l.set->rules[0]->id == "fine-rule");
  CHECK(l.set->lists.count("fine") == 1);
  CHECK(l.set->lists.count("pm") == 0);
  // The duplicate names the first definition.
  CHECK(find(l.diags, core::codes::kIdDuplicate, "/rules/2/id")->message.find("test.json:/rules/0") != std::string::npos);

  // Near miss: drop the stray key and the valid rule loads next to nothing else.
  const auto ok = load(R"({"lists": {"fine": ["a"]}, "rules": [{"id": "good", "title": "t", "severity": "low",
     "events": {"a": {"where": {"_COMM": "a"}}}, "correlate": {"count": {"event": "a", "min": 2}, "within": "1m"}}]})");
  CHECK(ok.diags.empty());
  CHECK(ok.set->rules.size() == 1);
}

TEST_CASE("loader: the number of diagnostics is capped, and the cap says so", "[loader]") {
  std::string events;
  for (int i = 0; i < 20; ++i) events += std::string(i ? "," : "") + "\"e" + std::to_string(i) + R"(":{"where":{"_COMM":"x","MESSAGE":{"regex":"("}}})";
  core::LoadOptions opts;
  opts.max_diagnostics = 5;
  const auto l = load({{"test.json", rule("{" + events + "}", R"({"sequence":["e0"]})")}}, opts);
  REQUIRE(l.diags.size() == 6);
  CHECK(l.diags.back().code == core::codes::kTooMany);
  for (std::size_t i = 0; i < 5; ++i) CHECK(l.diags[i].code == core::codes::kRegexInvalid);
}

TEST_CASE("loader: duplicates across files", "[loader]") {
  const std::string a = R"({"lists": {"admins": ["root"]}, "rules": [)" + rule(kEvents, kSeq, "", "dup") + "]}";
  const std::string b = R"({"lists": {"admins": ["alice"]}, "rules": [)" + rule(kEvents, kSeq, "", "dup") + "]}";
  const auto l = load({{"a.json", a}, {"b.json", b}});
  INFO(test::dump(l.diags));
  const auto* list = find(l.diags, core::codes::kListDuplicate, "/lists/admins");
  REQUIRE(list != nullptr);
  CHECK(list->origin == "b.json");
  const auto* id = find(l.diags, core::codes::kIdDuplicate, "/rules/0/id");
  REQUIRE(id != nullptr);
  CHECK(id->origin == "b.json");
  CHECK(id->message.find("a.json:/rules/0") != std::string::npos);
  CHECK(l.set->rules.size() == 1);  // the first definition stays
  CHECK(l.set->lists.at("admins")->contains("root"));

  const std::string c = R"({"lists": {"others": ["alice"]}, "rules": [)" + rule(kEvents, kSeq, "", "other") + "]}";
  const auto ok = load({{"a.json", a}, {"c.json", c}});
  CHECK(ok.diags.empty());
  CHECK(ok.set->rules.size() == 2);
}

TEST_CASE("loader: disabled rules are skipped unless asked for", "[loader]") {
  const std::string text = rule(kEvents, kSeq, R"(,"enabled":false)");
  CHECK(load(text).set->rules.empty());
  core::LoadOptions opts;
  opts.include_disabled = true;
  CHECK(load({{"test.json", text}}, opts).set->rules.size() == 1);
  // A disabled rule is not compiled, so its mistakes do not count.
  CHECK(load(rule(kEvents, R"({"sequence":["zz"]})", R"(,"enabled":false)")).diags.empty());
}

TEST_CASE("loader: list files are read through the caller, one value a line", "[loader]") {
  const std::string text = R"({"lists": {"units": {"file": "units.txt", "match": "prefix"},
                                          "gone": {"file": "gone.txt"}}, "rules": []})";
  core::LoadOptions opts;
  std::vector<std::pair<std::string, std::string>> asked;
  opts.read_file = [&](std::string_view origin, std::string_view path) -> std::expected<std::string, std::string> {
    asked.emplace_back(origin, path);
    if (path == "units.txt") return std::string("# approved timers\n  apt-daily\r\n\nlogrotate.timer\t\n");
    return std::unexpected("gone.txt: No such file or directory");
  };
  const auto l = load({{"dir/rules.json", text}}, opts);
  INFO(test::dump(l.diags));
  REQUIRE(l.diags.size() == 1);
  CHECK(l.diags[0].code == core::codes::kListUnreadable);
  CHECK(l.diags[0].pointer == "/lists/gone/file");
  CHECK(l.diags[0].message == "gone.txt: No such file or directory");
  CHECK(asked.size() == 2);
  CHECK(asked[0].first == "dir/rules.json");
  const auto& units = *l.set->lists.at("units");
  CHECK(units.contains("apt-daily.timer"));
  CHECK(units.contains("logrotate.timer"));
  CHECK_FALSE(units.contains("# approved timers"));
  CHECK_FALSE(units.contains(""));
  CHECK_FALSE(units.contains("evil.timer"));
  CHECK(l.set->lists.count("gone") == 0);

  // Without a reader, a list file is an error, not a silent empty list.
  const auto none = load(text);
  CHECK(test::has_code(none.diags, core::codes::kListUnreadable, "/lists/units/file"));
}

TEST_CASE("loader: detection feeds are ordered producers first and cycles are refused", "[loader]") {
  auto consumer = [](const std::string& id, const std::string& from) {
    return R"({"id":")" + id + R"(","title":"t","severity":"low","events":{"d":{"from":"detections","where":{"rule":")" + from +
           R"("}}},"correlate":{"sequence":["d"]}})";
  };
  auto producer = [](const std::string& id) { return rule(R"({"a":{"where":{"_COMM":"a"}}})", R"({"sequence":["a"]})", "", id); };
  auto file = [](const std::vector<std::string>& rules) {
    std::string s = R"({"rules":[)";
    for (std::size_t i = 0; i < rules.size(); ++i) s += (i ? "," : "") + rules[i];
    return s + "]}";
  };
  SECTION("a consumer listed before its producer runs after it") {
    const auto l = load(file({consumer("c", "p"), producer("p")}));
    CHECK(l.diags.empty());
    REQUIRE(l.set->rules.size() == 2);
    CHECK(l.set->rules[0]->id == "p");
    CHECK(l.set->rules[1]->id == "c");
    CHECK(l.set->rules[1]->consumes_rules == std::vector<std::string>{"p"});
  }
  SECTION("a rule that consumes itself") {
    const auto l = load(file({consumer("self", "self"), producer("p")}));
    INFO(test::dump(l.diags));
    CHECK(test::has_code(l.diags, core::codes::kRuleCycle, "/rules/0"));
    CHECK(count_errors(l.diags) == 1);
    REQUIRE(l.set->rules.size() == 1);
    CHECK(l.set->rules[0]->id == "p");
  }
  SECTION("two rules feeding each other, and a bystander consuming one of them") {
    // Whatever the order of the rules in the file, the two in the cycle are refused and
    // the bystander, which is not part of the cycle, is not.
    const std::vector<std::vector<std::string>> orders = {
        {consumer("x", "a1"), consumer("a1", "b1"), consumer("b1", "a1")},
        {consumer("a1", "b1"), consumer("b1", "a1"), consumer("x", "a1")},
        {consumer("b1", "a1"), consumer("x", "a1"), consumer("a1", "b1")},
    };
    for (const auto& order : orders) {
      const auto l = load(file(order));
      INFO(test::dump(l.diags));
      std::set<std::string> cyclic;
      for (const auto& d : l.diags)
        if (d.code == core::codes::kRuleCycle) cyclic.insert(d.rule_id);
      CHECK(cyclic == std::set<std::string>{"a1", "b1"});
      REQUIRE(l.set->rules.size() == 1);
      CHECK(l.set->rules[0]->id == "x");
    }
  }
  SECTION("a cycle found through a rule already finished") {
    // p -> q -> p and p -> r -> q: r is part of the cycle too (r -> q -> p -> r), though the
    // search meets q finished when it reaches r.
    auto multi = [](const std::string& id, const std::string& from) {
      return R"({"id":")" + id + R"(","title":"t","severity":"low","events":{"d":{"from":"detections","where":{"rule":)" +
             from + R"(}}},"correlate":{"sequence":["d"]}})";
    };
    const auto l = load(file({multi("p", R"(["q","r"])"), multi("q", R"("p")"), multi("r", R"("q")"), producer("s")}));
    INFO(test::dump(l.diags));
    std::set<std::string> cyclic;
    for (const auto& d : l.diags)
      if (d.code == core::codes::kRuleCycle) cyclic.insert(d.rule_id);
    CHECK(cyclic == std::set<std::string>{"p", "q", "r"});
    REQUIRE(l.set->rules.size() == 1);
    CHECK(l.set->rules[0]->id == "s");
  }
  SECTION("a consumer of a rule that is not loaded is a warning") {
    const auto l = load(file({consumer("c", "nowhere")}));
    REQUIRE(l.diags.size() == 1);
    CHECK(l.diags[0].code == core::codes::kRuleUnknown);
    CHECK(l.diags[0].severity == core::Severity::kWarning);
    CHECK(l.set->rules.size() == 1);
  }
}

TEST_CASE("loader: durations", "[loader]") {
  struct D {
    std::string text;
    core::Micros us;  // -1: invalid
  };
  const std::vector<D> cases = {
      {"500ms", 500000},       {"30s", 30000000},       {"5m", 300000000},       {"5min", 300000000},
      {"1h30m", 5400000000},   {"2d", 172800000000},    {"1h 30m", 5400000000},  {"250us", 250},
      {"", -1},                {"5", -1},               {"5x", -1},              {"-5s", -1},
      {"m", -1},               {"1.5h", -1},            {"  ", -1},              {"99999999999999d", -1},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto d = core::parse_duration(c.text);
    if (c.us < 0) {
      CHECK_FALSE(d.has_value());
    } else {
      REQUIRE(d.has_value());
      CHECK(*d == c.us);
      CHECK(core::parse_duration(core::format_duration(*d)) == *d);
    }
  }
  CHECK(core::format_duration(5400000000) == "1h30m");
  CHECK(core::format_duration(250000) == "250ms");
}
