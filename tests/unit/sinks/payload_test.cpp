// Webhook bodies: the detection JSON and the Slack-compatible message.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "jcorr/sinks/payload.h"
#include "sink_test_util.h"

using jcorr::sinks::Payload;
using jcorr::sinks::PayloadFormat;
using nlohmann::json;

TEST_CASE("the default payload is the canonical detection JSON", "[sinks][payload]") {
  const auto det = jcorr::test::sample_detection();
  const json d = jcorr::core::to_json(det);
  const Payload p;
  CHECK(p.content_type() == "application/json");
  std::string line = jcorr::core::to_json_line(det);
  line.pop_back();
  CHECK(p.render(d) == line);
}

TEST_CASE("the Slack payload has text and blocks within Slack's limits", "[sinks][payload]") {
  auto det = jcorr::test::sample_detection();
  det.summary = "<!channel> & " + std::string(5000, 'x');
  det.title = std::string(300, 'T');
  const json m = json::parse(Payload(PayloadFormat::kSlack).render(jcorr::core::to_json(det)));
  REQUIRE(m["text"].is_string());
  const std::string text = m["text"];
  CHECK(text.starts_with("[HIGH] "));
  CHECK(text.find("<!channel>") == std::string::npos);  // mentions are escaped, not triggered
  CHECK(text.find("&lt;!channel&gt; &amp;") != std::string::npos);
  CHECK(text.size() <= 3000);
  REQUIRE(m["blocks"].is_array());
  CHECK(m["blocks"][0]["type"] == "header");
  CHECK(m["blocks"][0]["text"]["text"].get<std::string>().size() <= 150);
  bool has_fields = false, has_values = false;
  for (const auto& b : m["blocks"]) {
    if (b.contains("text") && b["text"].contains("text")) CHECK(b["text"]["text"].get<std::string>().size() <= 3000);
    if (b.contains("fields")) {
      has_fields = true;
      CHECK(b["fields"].size() <= 10);
      CHECK(b["fields"].dump().find("web01") != std::string::npos);
      CHECK(b["fields"].dump().find("T1053.006") != std::string::npos);
    }
    if (b["type"] == "context") has_values = b.dump().find("src_ip: 203.0.113.45") != std::string::npos;
  }
  CHECK(has_fields);
  CHECK(has_values);
}

TEST_CASE("webhook bodies carry the detection's enrichment", "[sinks][payload][enrichment]") {
  auto det = jcorr::test::sample_detection();
  det.enrichment = json::parse(R"({"baseline": true, "machine_id": "m", "root": "/", "timers": [
    {"unit": "backup.timer", "state": "loaded", "baseline": "changed",
     "service": {"unit": "backup.service", "state": "loaded", "exec_start": ["/dev/shm/.b <x>"]},
     "risks": [{"unit": "backup.service", "code": "exec.temp-path", "reason": "r"},
               {"unit": "backup.service", "code": "exec.hidden-path", "reason": "r"}]},
    {"unit": "run-r1.timer", "state": "missing", "missing": "transient", "baseline": "unknown",
     "service": {"unit": "run-r1.service", "state": "missing", "exec_start": []}, "risks": []}]})");
  const json d = jcorr::core::to_json(det);
  CHECK(json::parse(Payload().render(d))["enrichment"] == det.enrichment);
  const json m = json::parse(Payload(PayloadFormat::kSlack).render(d));
  const json& last = m["blocks"].back();
  CHECK(last["type"] == "section");
  CHECK(last["text"]["text"] ==
        "*Unit files*\nbackup.timer: loaded, baseline changed; backup.service loaded runs /dev/shm/.b &lt;x&gt;; risks: "
        "exec.temp-path exec.hidden-path\nrun-r1.timer: missing, baseline unknown; run-r1.service missing");
  det.enrichment = nullptr;
  const json plain = json::parse(Payload(PayloadFormat::kSlack).render(jcorr::core::to_json(det)));
  CHECK(plain.dump().find("Unit files") == std::string::npos);
}
