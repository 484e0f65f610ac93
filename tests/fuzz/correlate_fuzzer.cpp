// libFuzzer harness: the whole engine on a hostile journal. The input is an export
// stream (seeds: attack chains cut from the sample journals) read with the shipped
// rules' projection and fed to a correlator whose caps, chosen by the first byte, are
// tiny, so eviction, history and suppression limits run all the time. Properties: the
// partial-match caps hold after every entry, and every detection is one valid JSON
// line whose terminal view renders.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "jcorr/app/render.h"
#include "jcorr/core/detection.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)jcorr::fuzz::shipped_rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jcorr;
  if (size < 1) return 0;
  const unsigned char b = data[0];
  const auto& rules = fuzz::shipped_rules();
  core::CorrelatorOptions co;
  co.max_partials_per_rule = 1 + (b & 7);
  co.max_partials_total = 1 + ((b >> 3) & 15);
  co.max_history_per_group = 1 + (b & 3);
  co.max_suppressions = 1 + ((b >> 2) & 3);
  co.allowed_lateness = (b & 0x80) ? 5'000'000 : 0;
  co.capture_limit = 16 + (b & 0x3f);
  co.max_evidence = 2 + (b & 3);
  core::FieldSchema schema = rules.schema;  // the reader must not add names to the rules' schema
  sources::ExportReader reader("fuzz", sources::memory_input(std::string(reinterpret_cast<const char*>(data + 1), size - 1)),
                               schema, {}, nullptr);
  core::Correlator c(rules, co);
  std::vector<core::Detection> out;
  core::Event e;
  while (reader.next(e)) {
    c.process(e, out);
    FUZZ_CHECK(c.stats().partials <= co.max_partials_total, "the total partial-match cap holds");
  }
  c.finish(out);
  for (const auto& d : out) {
    const std::string line = core::to_json_line(d);
    FUZZ_CHECK(nlohmann::json::accept(line), "detection JSON parses");
    FUZZ_CHECK(d.evidence.size() <= co.max_evidence, "the evidence cap holds");
    (void)app::render_detection(d, false);
  }
  return 0;
}
