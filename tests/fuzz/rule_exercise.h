// The body both rule-loader harnesses share: load a rule text, check the diagnostics,
// and when rules load, run them over a genuine attack chain (system-timer-sudo) and a
// burst of its entries replayed out of order, rendering whatever they detect.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "jcorr/app/render.h"
#include "jcorr/core/detection.h"

namespace jcorr::fuzz {

inline const std::string& chain_text() {
  static const std::string text = chain_export("system-timer-sudo");
  return text;
}

inline void exercise_rules(std::string_view text) {
  core::LoadOptions lo;
  // List files: a small list for even-length names, an error for odd ones.
  lo.read_file = [](std::string_view, std::string_view path) -> std::expected<std::string, std::string> {
    if (path.size() % 2) return std::unexpected(std::string("no such list file"));
    return std::string("ansible\n# comment\n\n  salt \npuppet\r\n^a.*\n");
  };
  lo.max_diagnostics = 40;
  lo.include_disabled = !text.empty() && text.back() == ' ';
  core::RuleLoader loader(lo);
  loader.add(text, "fuzz.json");
  auto set = loader.finish();
  for (const auto& d : loader.diagnostics()) {
    FUZZ_CHECK(!d.code.empty(), "every diagnostic has a code");
    FUZZ_CHECK(!d.to_string().empty(), "every diagnostic renders");
    FUZZ_CHECK(d.pointer.empty() || d.pointer[0] == '/', "JSON pointers are absolute");
  }
  FUZZ_CHECK(loader.diagnostics().size() <= lo.max_diagnostics + 1, "diagnostics are capped");
  FUZZ_CHECK(set != nullptr, "finish() always returns a set");
  if (set->rules.empty()) return;

  core::CorrelatorOptions co;
  co.max_partials_per_rule = 8;
  co.max_partials_total = 20;
  co.max_history_per_group = 4;
  co.max_suppressions = 4;
  co.capture_limit = 48;
  co.max_evidence = 3;
  co.max_detection_depth = 3;
  const auto events = read_export(chain_text(), set->schema);
  core::Correlator c(*set, co);
  std::vector<core::Detection> out;
  for (const auto& e : events) {
    c.process(e, out);
    FUZZ_CHECK(c.stats().partials <= co.max_partials_total, "the partial-match cap holds");
  }
  // The same entries again, late and out of order: the watermark only moves forward.
  for (std::size_t i = events.size(); i-- > 0;) {
    c.process(events[i], out);
    FUZZ_CHECK(c.stats().partials <= co.max_partials_total, "the partial-match cap holds");
  }
  c.finish(out);
  for (const auto& d : out) {
    const std::string line = core::to_json_line(d);
    FUZZ_CHECK(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1, "one line per detection");
    FUZZ_CHECK(nlohmann::json::accept(line), "detection JSON parses");
    FUZZ_CHECK(d.evidence.size() <= std::max<std::size_t>(co.max_evidence, 2), "the evidence cap holds");
    (void)app::render_detection(d, true);
  }
}

}  // namespace jcorr::fuzz
