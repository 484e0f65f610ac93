// libFuzzer harness: the Journal Export Format reader on arbitrary bytes.
//
// The first byte picks the stream chunk size, the schema (closed, as the shipped rules
// project it, or open, as `replay --dump` does) and the size caps; the rest is the
// input. Property: reading it in place and reading it as a stream of tiny reads give
// the same entries (a reader that depended on where reads end could be steered by a
// writer who controls entry sizes), and neither crashes, leaks or hangs.
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
  const std::size_t chunk = 1 + (mode >> 2);  // 1 .. 64 bytes per read
  const sources::SourceOptions options = fuzz::small_caps(caps);
  auto schema_for = [&] {
    core::FieldSchema s = fuzz::shipped_rules().schema;
    if (mode & 1) s.set_open(true);
    return s;
  };
  core::FieldSchema mapped_schema = schema_for();
  core::FieldSchema stream_schema = schema_for();
  const auto mapped = fuzz::read_all<sources::ExportReader>(sources::memory_input(bytes), mapped_schema, options);
  const auto stream =
      fuzz::read_all<sources::ExportReader>(sources::chunked_input(bytes, chunk), stream_schema, options);
  FUZZ_CHECK(mapped.entries == stream.entries, "mapped and streamed reads give the same entries");
  FUZZ_CHECK(mapped.entries.size() <= bytes.size() / 2 + 1, "no entry comes from nothing");
  return 0;
}
