// User templates: placeholders, JSON escaping, literal braces, and the errors a
// configuration load reports.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "jcorr/sinks/webhook_template.h"
#include "sink_test_util.h"

using jcorr::sinks::json_escape;
using jcorr::sinks::WebhookTemplate;
using nlohmann::json;

namespace {

std::string render(const std::string& text, const json& d) {
  auto t = WebhookTemplate::compile(text);
  INFO(text << (t ? "" : " -> " + t.error().message));
  REQUIRE(t.has_value());
  return t->render(d);
}

}  // namespace

TEST_CASE("templates substitute the detection's fields", "[sinks][template]") {
  const json d = jcorr::core::to_json(jcorr::test::sample_detection());
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"{rule}", "t1053-006-timer-after-ssh-sudo"},
      {"{severity}/{title}", "high/New systemd timer started from an SSH session with sudo"},
      {"{summary}", "alice from 203.0.113.45 started net-monitor.timer on web01"},
      {"{values.user}@{values.src_ip}", "alice@203.0.113.45"},
      {"{values.command}", "a, b"},
      {"{values.missing}", ""},
      {"{host.hostname} {hostname} {host.machine_id}", "web01 web01 b9b5cf1f95cc478f9553d01ae90a6ef1"},
      {"{attack}", "T1053.006, T1021.004"},
      {"{tags}", "persistence, ssh"},
      {"{id}", "0123456789abcdef0123456789abcdef"},
      {"{time} {time_us}", "2026-01-01T00:01:00.000000Z 1767225660000000"},
      {"{group._MACHINE_ID}", "b9b5cf1f95cc478f9553d01ae90a6ef1"},
      {"{evidence_count}", "1"},
      {"no placeholders", "no placeholders"},
      {"{{rule}", "{rule}"},
      {"{\"a\": {\"b\": \"{rule}\"}}", "{\"a\": {\"b\": \"t1053-006-timer-after-ssh-sudo\"}}"},
      {"{ } {} {1} {\"", "{ } {} {1} {\""},
  };
  for (const auto& c : cases) CHECK(render(c.text, d) == c.expected);
}

TEST_CASE("substituted values are JSON-escaped and cannot break out of a string", "[sinks][template]") {
  auto det = jcorr::test::sample_detection();
  det.summary = "evil\" , \"admin\": true, \"x\": \"\\ \n\t\x01 \xff";
  const json d = jcorr::core::to_json(det);
  const std::string out = render(R"({"text": "{summary}", "admin": false})", d);
  const json parsed = json::parse(out);  // still valid JSON
  CHECK(parsed["admin"] == false);
  CHECK(parsed.size() == 2);
  CHECK(parsed["text"].get<std::string>().starts_with("evil\" , \"admin\": true"));
  CHECK(json_escape("a\"b\\c\n") == "a\\\"b\\\\c\\n");
}

TEST_CASE("{detection} inserts the whole detection as JSON", "[sinks][template]") {
  const json d = jcorr::core::to_json(jcorr::test::sample_detection());
  const json parsed = json::parse(render(R"({"source": "jcorr", "event": {detection}})", d));
  CHECK(parsed["event"] == d);
}

TEST_CASE("template errors are found at compile time with their offset", "[sinks][template]") {
  struct Case {
    const char* text;
    std::size_t offset;
    const char* message_part;
  };
  const Case cases[] = {
      {"x {rul}", 2, "unknown field {rul}"},
      {"{values}", 0, "{values.NAME}"},
      {"{host.ip}", 0, "unknown field {host.ip}"},
      {"{values.user.name}", 0, "unknown field"},
      {"abc {rule", 4, "not closed"},
      {"{rule name}", 5, "unexpected character ' '"},
      {"{values.}", 8, "empty name"},
      {"{values..x}", 8, "empty name"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto t = WebhookTemplate::compile(c.text);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().offset == c.offset);
    CHECK_THAT(t.error().message, Catch::Contains(c.message_part));
  }
}
