// Bounds on what leaves the engine: captured values and evidence are cut to
// CorrelatorOptions::capture_limit; detection JSON is one valid, escaped line whatever
// bytes a log entry carried; the terminal view neutralises escape sequences.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "bounds_util.h"
#include "jcorr/app/render.h"
#include "jcorr/core/correlator.h"
#include "jcorr/core/detection.h"

using jcorr::bounds::load_rules;
using namespace jcorr;

namespace {

const char* kRule = R"({
  "id": "login-then-timer", "title": "login then timer", "severity": "high",
  "events": {
    "login": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "(?s)^Accepted (?P<method>\\S+) for (?P<user>.+) from (?P<src>\\S+)$"}},
              "capture": {"host_field": "_HOSTNAME"}},
    "timer": {"where": {"_PID": "1", "UNIT": {"suffix": ".timer"}}, "capture": {"unit": "UNIT"}}
  },
  "correlate": {"sequence": ["login", "timer"], "within": "1h"},
  "values": {"user": "login.user", "unit": "timer.unit", "src": "login.src"},
  "summary": "{login.user} started {timer.unit}"
})";

std::vector<core::Detection> run(const core::RuleSet& set, const std::string& user, const std::string& unit,
                                 std::size_t capture_limit, const std::string& hostname = "web01",
                                 std::uint64_t* truncated = nullptr) {
  core::CorrelatorOptions o;
  o.capture_limit = capture_limit;
  core::Correlator c(set, o);
  std::vector<core::Detection> out;
  core::Event e;
  auto put = [&](std::string_view f, std::string_view v) { e.add(*set.schema.find(f), v); };
  e.realtime_us = 1795695000000000ULL;
  e.cursor = "x=1";
  e.add(core::kMachineIdField, "m1");
  e.add(core::kHostnameField, hostname);
  put("_COMM", "sshd");
  e.add(core::kMessageField, "Accepted password for " + user + " from 192.0.2.1");
  c.process(e, out);
  e.clear();
  e.realtime_us = 1795695001000000ULL;
  e.cursor = "x=2";
  e.add(core::kMachineIdField, "m1");
  e.add(core::kHostnameField, hostname);
  put("_PID", "1");
  put("UNIT", unit);
  e.add(core::kMessageField, "Started " + unit);
  c.process(e, out);
  c.finish(out);
  if (truncated) *truncated = c.stats().truncated;
  return out;
}

}  // namespace

TEST_CASE("captured values and evidence are cut to the capture limit", "[bounds]") {
  const auto set = load_rules(kRule);
  const std::string long_user(100000, 'u');
  const std::string long_unit = std::string(50000, 'x') + ".timer";
  for (const std::size_t limit : {std::size_t{16}, std::size_t{1024}}) {
    INFO("capture_limit " << limit);
    std::uint64_t truncated = 0;
    const auto out = run(*set, long_user, long_unit, limit, "web01", &truncated);
    REQUIRE(out.size() == 1);
    // Counted: user, unit (twice: capture and evidence field) and both evidence messages.
    CHECK(truncated >= 4);
    const auto& d = out[0];
    CHECK(d.values.at("user").get<std::string>() == std::string(limit, 'u'));
    CHECK(d.values.at("unit").get<std::string>().size() == limit);
    for (const auto& ev : d.evidence) {
      CHECK(ev.message.size() <= limit);
      for (const auto& [k, v] : ev.fields) CHECK(v.size() <= limit);
    }
    // The summary joins captured values with literal text: bounded by their sum.
    CHECK(d.summary.size() <= 2 * limit + 32);
    CHECK(core::to_json_line(d).size() < 16 * limit + 4096);
  }
  CHECK(core::CorrelatorOptions{}.capture_limit == 1024);  // the documented default
}

TEST_CASE("detection JSON stays one valid, escaped line with control bytes and invalid UTF-8", "[bounds]") {
  const auto set = load_rules(kRule);
  // Control characters (valid UTF-8) in a regex capture; NUL, ESC and invalid UTF-8 in a
  // field capture and the host name.
  const std::string user = "ev\x1b[2J\x1b]0;pwned\x07il\r\nFAKE: line\t\x01\x7f\xc2\x9b";
  const std::string unit = std::string("bad\0unit\x1b[31m\xc3\x28\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80.timer",
                                       sizeof "bad\0unit\x1b[31m\xc3\x28\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80.timer" - 1);
  const auto out = run(*set, user, unit, 1024, "host\x1b[1m\xff");
  REQUIRE(out.size() == 1);
  const std::string line = core::to_json_line(out[0]);
  CHECK(line.find('\n') == line.size() - 1);
  for (const char c : line) CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n'));
  const auto j = nlohmann::json::parse(line);  // throws (fails the test) when invalid
  CHECK(line.find("\\u001b[2J") != std::string::npos);
  CHECK(line.find("\\r\\n") != std::string::npos);
  CHECK(line.find("\\u0000") != std::string::npos);
  CHECK(line.find("\xef\xbf\xbd") != std::string::npos);  // invalid bytes become U+FFFD
  CHECK(j["values"]["user"].get<std::string>() == user);  // valid UTF-8 round-trips, controls included
  CHECK(j["values"]["unit"].get<std::string>().starts_with(std::string("bad\0unit\x1b[31m", 13)));
}

TEST_CASE("terminal escape sequences in log values are neutralised in the terminal view", "[bounds]") {
  const auto set = load_rules(kRule);
  const std::string user = "mallory\x1b[2J\x1b]8;;http://evil\x07link\x1b]8;;\x07\r\n  id        forged\xc2\x9b""31m\x7f";
  const auto out = run(*set, user, "evil.timer", 1024, "web01\x1b[8m");
  REQUIRE(out.size() == 1);
  for (const bool color : {false, true}) {
    const std::string view = app::render_detection(out[0], color);
    INFO(view);
    std::size_t esc = 0;
    for (std::size_t i = 0; i < view.size(); ++i) {
      const auto c = static_cast<unsigned char>(view[i]);
      if (c == 0x1b) ++esc;
      CHECK((c >= 0x20 || c == '\n' || c == 0x1b));
      CHECK(c != 0x7f);
      if (c == 0xc2 && i + 1 < view.size()) CHECK(static_cast<unsigned char>(view[i + 1]) >= 0xa0);
    }
    if (!color) CHECK(esc == 0);
    CHECK(view.find("\\x1b[2J") != std::string::npos);
    CHECK(view.find("\\x0d\\x0a") != std::string::npos);  // no forged line
    CHECK(view.find("\n  id        forged") == std::string::npos);
  }
  CHECK(app::terminal_safe("a\x1b[0mb\xc2\x85") == "a\\x1b[0mb\\xc2\\x85");
}

TEST_CASE("terminal_safe escapes overlong forms, surrogates and code points above U+10FFFF", "[bounds]") {
  // E0 80 9B is an overlong ESC and E0 82 9B an overlong CSI (U+009B): a lenient
  // terminal decoder would act on them. They, surrogates and F4 90.. are not UTF-8.
  CHECK(app::terminal_safe("a\xe0\x80\x9b[2Jb") == "a\\xe0\\x80\\x9b[2Jb");
  CHECK(app::terminal_safe("\xe0\x82\x9b""31m") == "\\xe0\\x82\\x9b31m");
  CHECK(app::terminal_safe("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(app::terminal_safe("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(app::terminal_safe("\xf0\x8f\xbf\xbf") == "\\xf0\\x8f\\xbf\\xbf");
  // Valid sequences at the edges stay as they are.
  CHECK(app::terminal_safe("\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xc2\xa0") ==
        "\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xc2\xa0");
}

TEST_CASE("a mebibyte _MACHINE_ID or _HOSTNAME is kept at the capture limit", "[bounds]") {
  // journald's are 32 hex digits and a host name; a hostile export can make them as long
  // as max_field_size, and the correlator copies them into group keys, groups, members
  // and deadlines.
  const auto set = load_rules(kRule);
  core::CorrelatorOptions o;
  core::Correlator c(*set, o);
  std::vector<core::Detection> out;
  const std::string machine(1u << 20, 'm');
  const std::string host(1u << 20, 'h');
  core::Event e;
  e.realtime_us = 1795695000000000ULL;
  e.cursor = "x=1";
  e.add(core::kMachineIdField, machine);
  e.add(core::kHostnameField, host);
  e.add(*set->schema.find("_COMM"), "sshd");
  e.add(core::kMessageField, "Accepted password for alice from 192.0.2.1");
  c.process(e, out);
  e.clear();
  e.realtime_us = 1795695001000000ULL;
  e.cursor = "x=2";
  e.add(core::kMachineIdField, machine);
  e.add(core::kHostnameField, host);
  e.add(*set->schema.find("_PID"), "1");
  e.add(*set->schema.find("UNIT"), "evil.timer");
  c.process(e, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].machine_id == std::string(o.capture_limit, 'm'));
  CHECK(out[0].hostname == std::string(o.capture_limit, 'h'));
  CHECK(c.stats().truncated >= 4);
}

TEST_CASE("the terminal view shortens long evidence messages at a character boundary", "[bounds]") {
  core::Detection d;
  d.id = "0123456789abcdef0123456789abcdef";
  d.rule_id = "r";
  d.title = "t";
  d.severity = "high";
  core::Evidence e;
  e.step = "s";
  for (int i = 0; i < 100; ++i) e.message += "\xc3\xa9";  // "é", two bytes each
  d.evidence.push_back(e);
  const std::string view = app::render_detection(d, false);
  const auto at = view.find("s: ");
  REQUIRE(at != std::string::npos);
  const std::string line = view.substr(at + 3, view.find('\n', at) - at - 3);
  CHECK(line.ends_with("..."));
  CHECK(line.size() <= 160);
  // Only whole two-byte sequences before the ellipsis.
  const std::string body = line.substr(0, line.size() - 3);
  CHECK(body.size() % 2 == 0);
  for (std::size_t i = 0; i < body.size(); i += 2) CHECK(body.compare(i, 2, "\xc3\xa9") == 0);
}
