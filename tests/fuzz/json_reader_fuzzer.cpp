// libFuzzer harness: the JSON-lines reader (`journalctl -o json`) on arbitrary bytes.
//
// The first byte picks the stream chunk size and the schema (closed or open), the
// second the size caps. Properties: in-place and streamed reads give the same entries;
// the one-pass line scanner and the general JSON parser give the same entries and the
// same number of problem reports; nothing crashes, leaks or hangs.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)jcorr::fuzz::shipped_rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jcorr;
  if (size < 2) return 0;
  const unsigned char mode = data[0];
  const unsigned char caps = data[1];
  const std::string bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t chunk = 1 + (mode >> 2);
  const sources::SourceOptions options = fuzz::small_caps(caps);
  auto schema_for = [&] {
    core::FieldSchema s = fuzz::shipped_rules().schema;
    if (mode & 1) s.set_open(true);
    return s;
  };
  core::FieldSchema mapped_schema = schema_for();
  core::FieldSchema stream_schema = schema_for();
  const auto mapped = fuzz::read_all<sources::JsonReader>(sources::memory_input(bytes), mapped_schema, options);
  const auto stream = fuzz::read_all<sources::JsonReader>(sources::chunked_input(bytes, chunk), stream_schema, options);
  FUZZ_CHECK(mapped.entries == stream.entries, "mapped and streamed reads give the same entries");
  // The one-pass scanner must read every line as the general JSON parser does.
  sources::SourceOptions general = options;
  general.json_scanner = false;
  core::FieldSchema general_schema = schema_for();
  const auto parsed = fuzz::read_all<sources::JsonReader>(sources::memory_input(bytes), general_schema, general);
  FUZZ_CHECK(parsed.entries == mapped.entries, "the scanner and the general parser give the same entries");
  FUZZ_CHECK(parsed.problems == mapped.problems, "the scanner and the general parser report the same problems");
  return 0;
}
