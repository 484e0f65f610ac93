// open_source format detection and failure reports, stdin through a real pipe, and
// MergedSource ordering.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/json_writer.h"
#include "jcorr/sources/source.h"

using jcorr::core::Event;
using jcorr::core::FieldSchema;
using jcorr::sources::Format;
using jcorr::sources::InputProblem;
using jcorr::sources::SourceOptions;

namespace {

struct TempDir {
  TempDir() {
    std::string tmpl = "/tmp/jcorr-open-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::string path;
};

const std::string kExport = "__CURSOR=c1\n__REALTIME_TIMESTAMP=10\nMESSAGE=from export\n\n";
const std::string kJson = R"({"__CURSOR":"c1","__REALTIME_TIMESTAMP":"10","MESSAGE":"from json"})" "\n";

struct Opened {
  bool ok = false;
  std::vector<std::string> messages;  // MESSAGE of each event
  std::vector<InputProblem> problems;
};

Opened open_and_read(const std::string& input, Format format = Format::kAuto) {
  FieldSchema schema;
  SourceOptions options;
  options.format = format;
  Opened o;
  auto src = jcorr::sources::open_source(input, schema, options, [&](const InputProblem& p) { o.problems.push_back(p); });
  if (!src) return o;
  o.ok = true;
  CHECK(src->name() == input);
  Event e;
  while (src->next(e)) o.messages.emplace_back(e.get(jcorr::core::kMessageField).value_or("<none>"));
  return o;
}

}  // namespace

TEST_CASE("open_source: detects the format from the content", "[sources][open]") {
  TempDir dir;
  struct Case {
    const char* name;
    std::string bytes;
    Format format;
    std::vector<std::string> messages;
    std::size_t problems;
  };
  const std::vector<Case> cases = {
      {"export", kExport, Format::kAuto, {"from export"}, 0},
      {"json", kJson, Format::kAuto, {"from json"}, 0},
      {"json after blank lines and spaces", "\n \n\t" + kJson, Format::kAuto, {"from json"}, 0},
      {"export forced on JSON content", kJson, Format::kExport, {}, 1},
      {"json forced on export content", kExport, Format::kJson, {}, 3},
      {"empty file", "", Format::kAuto, {}, 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Opened o = open_and_read(dir.file("in", c.bytes), c.format);
    CHECK(o.ok);
    CHECK(o.messages == c.messages);
    CHECK(o.problems.size() == c.problems);
  }
}

TEST_CASE("open_source: missing or unreadable inputs give nullptr and a problem", "[sources][open]") {
  TempDir dir;
  const std::vector<std::pair<std::string, Format>> bad = {
      {dir.path + "/does-not-exist", Format::kAuto},
      {dir.file("fake.journal", "LPKSHHRH but not really a journal"), Format::kAuto},
      {dir.file("x.export", kExport), Format::kJournal},
      {dir.path, Format::kJson},
  };
  for (const auto& [path, format] : bad) {
    INFO(path);
    const Opened o = open_and_read(path, format);
    CHECK_FALSE(o.ok);
    REQUIRE(o.problems.size() == 1);
    CHECK(o.problems[0].input == path);
    CHECK_FALSE(o.problems[0].message.empty());
  }
}

TEST_CASE("open_source: an empty directory is an empty journal", "[sources][open]") {
  TempDir dir;
  const Opened o = open_and_read(dir.path);
  CHECK(o.ok);
  CHECK(o.messages.empty());
  CHECK(o.problems.empty());
}

TEST_CASE("open_source: stdin read through a pipe in chunks", "[sources][open]") {
  for (const auto& [bytes, expected] :
       std::vector<std::pair<std::string, std::string>>{{kExport, "from export"}, {kJson, "from json"}}) {
    // Many entries, so the data cannot fit in the pipe at once and arrives in pieces.
    std::string all;
    for (int i = 0; i < 20000; ++i) all += bytes;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const int saved = ::dup(STDIN_FILENO);
    REQUIRE(::dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
    ::close(fds[0]);
    std::thread writer([&] {
      std::size_t off = 0;
      while (off < all.size()) {
        const ssize_t n = ::write(fds[1], all.data() + off, std::min<std::size_t>(all.size() - off, 1000));
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(fds[1]);
    });
    const Opened o = open_and_read("-");
    writer.join();
    ::dup2(saved, STDIN_FILENO);
    ::close(saved);
    CHECK(o.ok);
    CHECK(o.problems.empty());
    REQUIRE(o.messages.size() == 20000);
    CHECK(o.messages.front() == expected);
    CHECK(o.messages.back() == expected);
  }
}

TEST_CASE("merged: orders by realtime, ties by input index, tags the input", "[sources][merge]") {
  auto entry = [](const std::string& cursor, int t) {
    return "__CURSOR=" + cursor + "\n__REALTIME_TIMESTAMP=" + std::to_string(t) + "\n\n";
  };
  FieldSchema schema;
  std::vector<std::unique_ptr<jcorr::sources::Source>> inputs;
  inputs.push_back(std::make_unique<jcorr::sources::ExportReader>(
      "a", jcorr::sources::memory_input(entry("a1", 1) + entry("a5", 5) + entry("a9", 9)), schema, SourceOptions{},
      nullptr));
  inputs.push_back(std::make_unique<jcorr::sources::ExportReader>(
      "b", jcorr::sources::chunked_input(entry("b5", 5) + entry("b6", 6), 3), schema, SourceOptions{}, nullptr));
  inputs.push_back(std::make_unique<jcorr::sources::ExportReader>("c", jcorr::sources::memory_input(""), schema,
                                                                  SourceOptions{}, nullptr));
  inputs.push_back(std::make_unique<jcorr::sources::ExportReader>(
      "d", jcorr::sources::memory_input(entry("d0", 0) + entry("d5", 5)), schema, SourceOptions{}, nullptr));
  jcorr::sources::MergedSource merged(std::move(inputs));
  CHECK(merged.name() == "a,b,c,d");
  std::vector<std::string> order;
  Event e;
  while (merged.next(e)) order.push_back(e.cursor + "@" + std::to_string(e.input));
  CHECK(order == std::vector<std::string>{"d0@3", "a1@0", "a5@0", "b5@1", "d5@3", "b6@1", "a9@0"});
  CHECK_FALSE(merged.next(e));
}

TEST_CASE("merged: no inputs is an empty source", "[sources][merge]") {
  jcorr::sources::MergedSource merged({});
  Event e;
  CHECK_FALSE(merged.next(e));
}
