// libFuzzer harness: the rule loader on arbitrary bytes (JSON syntax, structure, regex
// compilation, references, templates, linking); rules that load are run over a genuine
// attack chain. Seeds: the shipped rule file and its rules one by one.
#include <cstddef>
#include <cstdint>

#include "rule_exercise.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)jcorr::fuzz::chain_text();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  jcorr::fuzz::exercise_rules(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
