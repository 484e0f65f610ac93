// Bounds on what the readers hold: field size, entry size and field count, for the
// export and JSON-lines readers, on streams generated on the fly (the test never holds
// the 100 MB itself, so buffer sizes measure the reader). Every cap gives a problem
// report that says what was cut or skipped, and reading goes on after it.
#include <string>
#include <vector>

#include "bounds_util.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/json_reader.h"

using jcorr::bounds::fill;
using jcorr::bounds::GeneratedInput;
using jcorr::bounds::lit;
using namespace jcorr;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

struct Result {
  std::vector<std::string> messages;  // MESSAGE of each entry (first 16 bytes) and its size
  std::vector<std::size_t> sizes;
  std::vector<sources::InputProblem> problems;
  std::size_t max_buffer = 0;
};

template <class Reader>
Result read(std::vector<GeneratedInput::Part> parts, const sources::SourceOptions& options = {}) {
  core::FieldSchema schema;
  Result r;
  Reader reader("hostile", std::make_unique<GeneratedInput>(std::move(parts)), schema, options,
                [&](const sources::InputProblem& p) { r.problems.push_back(p); });
  core::Event e;
  while (reader.next(e)) {
    const auto m = e.get(core::kMessageField).value_or("");
    r.messages.emplace_back(m.substr(0, 16));
    r.sizes.push_back(m.size());
    r.max_buffer = std::max(r.max_buffer, reader.buffer_capacity());
  }
  r.max_buffer = std::max(r.max_buffer, reader.buffer_capacity());
  return r;
}

bool reported(const Result& r, std::string_view what) {
  for (const auto& p : r.problems)
    if (p.message.find(what) != std::string::npos) return true;
  return false;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

const std::string kNextExport = "__REALTIME_TIMESTAMP=2\nMESSAGE=next\n\n";
const std::string kNextJson = R"({"__REALTIME_TIMESTAMP":"2","MESSAGE":"next"})" "\n";

}  // namespace

TEST_CASE("a 100 MB MESSAGE in an export stream is truncated, buffered at most once", "[bounds]") {
  for (const bool binary : {false, true}) {
    INFO("binary field: " << binary);
    std::vector<GeneratedInput::Part> parts = {lit("__REALTIME_TIMESTAMP=1\n")};
    if (binary) parts.push_back(lit("MESSAGE\n" + le64(100 * kMiB)));
    else parts.push_back(lit("MESSAGE="));
    parts.push_back(fill('A', 100 * kMiB));
    parts.push_back(lit("\n\n" + kNextExport));
    const sources::SourceOptions defaults;
    const Result r = read<sources::ExportReader>(parts);
    REQUIRE(r.sizes.size() == 2);
    CHECK(r.sizes[0] == defaults.max_field_size);  // cut to 1 MiB
    CHECK(r.messages[1] == "next");
    CHECK(reported(r, "value of MESSAGE is longer than 1048576 bytes; truncated"));
    // The entry is within max_entry_size (256 MiB), so it is buffered once: no more.
    CHECK(r.max_buffer < 100 * kMiB + 2 * kMiB);
  }
}

TEST_CASE("an export entry over max_entry_size is skipped without being buffered", "[bounds]") {
  for (const bool binary : {false, true}) {
    INFO("binary field: " << binary);
    sources::SourceOptions o;
    o.max_entry_size = 8 * kMiB;
    std::vector<GeneratedInput::Part> parts = {lit("__REALTIME_TIMESTAMP=1\n")};
    if (binary) parts.push_back(lit("MESSAGE\n" + le64(100 * kMiB)));
    else parts.push_back(lit("MESSAGE="));
    parts.push_back(fill('A', 100 * kMiB));
    parts.push_back(lit("\nAFTER=1\n\n" + kNextExport));
    const Result r = read<sources::ExportReader>(parts, o);
    REQUIRE(r.messages == std::vector<std::string>{"next"});
    CHECK(reported(r, "entry is larger than 8388608 bytes; skipped"));
    CHECK(r.max_buffer <= o.max_entry_size + 2 * kMiB);
  }
}

TEST_CASE("a 100 MB MESSAGE in a JSON line is truncated; over max_entry_size the line is skipped", "[bounds]") {
  std::vector<GeneratedInput::Part> parts = {lit(R"({"__REALTIME_TIMESTAMP":"1","MESSAGE":")"), fill('A', 100 * kMiB),
                                             lit("\"}\n" + kNextJson)};
  {
    const Result r = read<sources::JsonReader>(parts);
    REQUIRE(r.sizes.size() == 2);
    CHECK(r.sizes[0] == sources::SourceOptions{}.max_field_size);
    CHECK(r.messages[1] == "next");
    CHECK(reported(r, "value of MESSAGE is longer than 1048576 bytes; truncated"));
    CHECK(r.max_buffer < 100 * kMiB + 2 * kMiB);
  }
  {
    sources::SourceOptions o;
    o.max_entry_size = 8 * kMiB;
    const Result r = read<sources::JsonReader>(parts, o);
    CHECK(r.messages == std::vector<std::string>{"next"});
    CHECK(reported(r, "line is longer than 8388608 bytes; skipped"));
    CHECK(r.max_buffer <= o.max_entry_size + 2 * kMiB);
  }
}

TEST_CASE("an export entry with a million fields is skipped with a problem", "[bounds]") {
  std::string many;
  many.reserve(8 * kMiB);
  for (int i = 0; i < 1'000'000; ++i) many += "MESSAGE=x\n";  // projected, repeated
  const Result r = read<sources::ExportReader>({lit("__REALTIME_TIMESTAMP=1\n"), lit(many), lit("\n" + kNextExport)});
  CHECK(r.messages == std::vector<std::string>{"next"});
  CHECK(reported(r, "entry has more than 4096 fields; skipped"));
  CHECK(r.max_buffer < 16 * kMiB);
}

TEST_CASE("a JSON line with a million fields or a million values is skipped with a problem", "[bounds]") {
  SECTION("a million distinct fields") {
    std::string line = R"({"__REALTIME_TIMESTAMP":"1")";
    for (int i = 0; i < 1'000'000; ++i) line += ",\"F" + std::to_string(i) + "\":\"x\"";
    line += ",\"MESSAGE\":\"first\"}\n";
    const Result r = read<sources::JsonReader>({lit(line), lit(kNextJson)});
    CHECK(r.messages == std::vector<std::string>{"next"});
    CHECK(reported(r, "more than 4096 fields; skipped"));
  }
  SECTION("one field with a million values") {
    std::string line = R"({"__REALTIME_TIMESTAMP":"1","MESSAGE":[)";
    for (int i = 0; i < 1'000'000; ++i) line += i ? ",\"x\"" : "\"x\"";
    line += "]}\n";
    const Result r = read<sources::JsonReader>({lit(line), lit(kNextJson)});
    CHECK(r.messages == std::vector<std::string>{"next"});
    CHECK(reported(r, "more than 4096 fields; skipped"));
  }
  SECTION("a line holding a million entries") {
    std::string line = "[";
    for (int i = 0; i < 1'000'000; ++i) line += (i ? "," : "") + std::string(R"({"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"})");
    line += "]\n";
    const Result r = read<sources::JsonReader>({lit(line), lit(kNextJson)});
    CHECK(r.messages == std::vector<std::string>{"next"});
    CHECK(reported(r, "not a JSON object"));
  }
}
