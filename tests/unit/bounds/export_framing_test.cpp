// The export reader must find entry boundaries the same way whether it reads a file in
// place or a stream in chunks, even when it skips an oversized entry: otherwise bytes
// inside a binary value (which may hold "\n\n" and anything after it) could be parsed
// as entries of their own, with any trusted field a writer cares to put there.
#include <string>
#include <vector>

#include "bounds_util.h"
#include "jcorr/sources/export_reader.h"

using namespace jcorr;

namespace {

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::vector<std::string> messages(const std::string& bytes, std::size_t chunk, const sources::SourceOptions& o) {
  core::FieldSchema schema;
  auto input = chunk == 0 ? sources::memory_input(bytes) : sources::chunked_input(bytes, chunk);
  sources::ExportReader reader("smuggle", std::move(input), schema, o, nullptr);
  std::vector<std::string> out;
  core::Event e;
  while (reader.next(e)) out.emplace_back(e.get(core::kMessageField).value_or("-"));
  return out;
}

}  // namespace

TEST_CASE("a line over max_entry_size does not make the reader look for entries inside a binary value",
          "[bounds]") {
  sources::SourceOptions o;
  o.max_entry_size = 256;
  const std::string smuggled =
      "\n\n__REALTIME_TIMESTAMP=5\n_COMM=sshd\n_UID=0\n_TRANSPORT=syslog\nMESSAGE=smuggled\n\n";
  const std::string bytes = "__REALTIME_TIMESTAMP=1\nMESSAGE=" + std::string(1000, 'A') + "\nNOTE\n" +
                            le64(smuggled.size()) + smuggled + "\nAFTER=1\n\n" +
                            "__REALTIME_TIMESTAMP=2\nMESSAGE=next\n\n";
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096}}) {
    INFO("chunk " << chunk << " (0: in place)");
    CHECK(messages(bytes, chunk, o) == std::vector<std::string>{"next"});
  }
}

TEST_CASE("an oversized binary value that runs past the end of the input hides no entries in place either",
          "[bounds]") {
  // Streamed, the reader keeps none of a value longer than max_entry_size, so when the
  // input ends first there is nothing left to search. In place it searched the rest of
  // the input for entries, inside the value; both now stop there.
  sources::SourceOptions o;
  o.max_entry_size = 256;
  const std::string inside = "\n\n__REALTIME_TIMESTAMP=5\n_COMM=sshd\nMESSAGE=inside\n\n";
  const std::string bytes = "__REALTIME_TIMESTAMP=2\nMESSAGE=first\n\n__REALTIME_TIMESTAMP=3\nNOTE\n" + le64(100000) + inside;
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{64}}) {
    INFO("chunk " << chunk << " (0: in place)");
    CHECK(messages(bytes, chunk, o) == std::vector<std::string>{"first"});
  }
}
