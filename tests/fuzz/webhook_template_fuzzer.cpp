// libFuzzer harness: webhook body templates (sinks/webhook_template.h) on hostile
// templates and hostile detections.
//
// The input gives a template text (arbitrary bytes: compile must report problems, not
// crash) and a detection whose log-derived strings are arbitrary bytes. Properties:
// compile() and render() never throw; a template that is a JSON document with
// placeholders only inside its string literals renders to valid JSON whatever the
// detection holds (no value can break out of its string), and "{detection}" alone
// renders the detection's canonical JSON.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "jcorr/core/detection.h"
#include "jcorr/sinks/webhook_template.h"

namespace {

using nlohmann::json;

const char* const kPlaceholders[] = {"{id}",       "{rule}",        "{title}",          "{severity}",
                                     "{summary}",  "{attack}",      "{tags}",           "{first}",
                                     "{last}",     "{time}",        "{time_us}",        "{hostname}",
                                     "{machine_id}", "{evidence_count}", "{host.hostname}", "{host.machine_id}",
                                     "{values.user}", "{values.commands}", "{values.nope}", "{group.user}"};

jcorr::core::Detection detection(FuzzedDataProvider& p) {
  jcorr::core::Detection d;
  d.id = "0123456789abcdef0123456789abcdef";
  d.rule_id = "r";
  d.title = p.ConsumeRandomLengthString(40);
  d.severity = "high";
  d.attack = {"T1053.006"};
  d.summary = p.ConsumeRandomLengthString(100);
  d.hostname = p.ConsumeRandomLengthString(30);
  d.machine_id = p.ConsumeRandomLengthString(30);
  d.time_us = p.ConsumeIntegral<std::int64_t>();
  d.values["user"] = p.ConsumeRandomLengthString(40);
  d.values["commands"] = json::array({p.ConsumeRandomLengthString(40), p.ConsumeRandomLengthString(40)});
  d.group["user"] = p.ConsumeRandomLengthString(20);
  jcorr::core::Evidence e;
  e.message = p.ConsumeRandomLengthString(100);
  e.cursor = p.ConsumeRandomLengthString(30);
  d.evidence.push_back(e);
  d.evidence_omitted = p.ConsumeIntegral<std::uint8_t>();
  return d;
}

// Literal text that stays inside a JSON string: no quote, backslash, control or brace.
std::string safe_literal(FuzzedDataProvider& p) {
  std::string s = p.ConsumeRandomLengthString(12);
  for (auto& c : s)
    if (c == '"' || c == '\\' || c == '{' || c == '}' || static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x80)
      c = '.';
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using jcorr::sinks::WebhookTemplate;
  FuzzedDataProvider p(data, size);
  const std::string raw_template = p.ConsumeRandomLengthString(200);
  const auto d = detection(p);
  const json dj = jcorr::core::to_json(d);

  // Any bytes as a template.
  if (auto t = WebhookTemplate::compile(raw_template)) (void)t->render(dj);

  // A JSON document with placeholders inside string literals.
  std::string body = "{\"text\": \"";
  const int parts = p.ConsumeIntegralInRange(1, 6);
  for (int i = 0; i < parts; ++i) body += safe_literal(p) + p.PickValueInArray(kPlaceholders);
  body += "\", \"n\": 1}";
  auto t = WebhookTemplate::compile(body);
  FUZZ_CHECK(t.has_value(), "known placeholders compile");
  const std::string rendered = t->render(dj);
  const json back = json::parse(rendered, nullptr, false);
  FUZZ_CHECK(!back.is_discarded() && back.is_object() && back.size() == 2, "no value breaks out of its JSON string");

  auto whole = WebhookTemplate::compile("{detection}");
  FUZZ_CHECK(whole.has_value(), "{detection} compiles");
  FUZZ_CHECK(json::parse(whole->render(dj), nullptr, false) == json::parse(dj.dump(-1, ' ', false, json::error_handler_t::replace)),
             "{detection} renders the canonical JSON");
  return 0;
}
