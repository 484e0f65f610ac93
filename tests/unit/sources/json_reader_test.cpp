// JSON-lines reader on crafted lines in journalctl's shapes, plus hostile ones; read
// in place and as a stream in tiny chunks, which must agree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/json_reader.h"
#include "jcorr/sources/json_writer.h"

using jcorr::core::Event;
using jcorr::core::FieldSchema;
using jcorr::sources::InputProblem;
using jcorr::sources::JsonReader;
using jcorr::sources::SourceOptions;

namespace {

struct Run {
  std::vector<std::string> events;
  std::vector<InputProblem> problems;
  std::uint64_t nulls = 0;
  std::size_t buffer_capacity = 0;
};

Run read_all(const std::string& bytes, std::size_t chunk, const SourceOptions& options = {},
             const std::vector<std::string>& projected = {}) {
  FieldSchema schema;
  schema.set_open(projected.empty());
  for (const auto& f : projected) schema.add(f);
  Run run;
  auto input = chunk == 0 ? jcorr::sources::memory_input(bytes) : jcorr::sources::chunked_input(bytes, chunk);
  JsonReader reader("test.json", std::move(input), schema, options,
                    [&](const InputProblem& p) { run.problems.push_back(p); });
  Event e;
  while (reader.next(e)) {
    run.events.push_back(jcorr::sources::to_journal_json(e, schema));
    run.buffer_capacity = std::max(run.buffer_capacity, reader.buffer_capacity());
  }
  run.nulls = reader.null_values();
  run.buffer_capacity = std::max(run.buffer_capacity, reader.buffer_capacity());
  return run;
}

std::string problems_text(const Run& r) {
  std::string s;
  for (const auto& p : r.problems) s += "line " + std::to_string(p.offset) + ": " + p.message + "\n";
  return s;
}

struct Case {
  const char* name;
  std::string input;
  std::vector<std::string> events;
  std::vector<std::pair<std::uint64_t, std::string>> problems;  // line, message substring
  std::uint64_t nulls = 0;
};

const std::string kL1 = R"({"__CURSOR":"c1","__REALTIME_TIMESTAMP":"100","__MONOTONIC_TIMESTAMP":"7","MESSAGE":"one"})";
const std::string kL2 = R"({"__CURSOR":"c2","__REALTIME_TIMESTAMP":"200","__MONOTONIC_TIMESTAMP":"7","MESSAGE":"two"})";

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"two lines", kL1 + "\n" + kL2 + "\n", {kL1, kL2}, {}});
  c.push_back({"last line without newline, CRLF, blank lines", "\n" + kL1 + "\r\n  \n\n" + kL2, {kL1, kL2}, {}});
  c.push_back({"journalctl shapes: repeated, byte arrays, escapes",
               R"({"__REALTIME_TIMESTAMP":"5","__CURSOR":"c","DUP":["one","two"],"RAW":[255,254,0,97],)"
               R"("MIX":[[1,2],"text"],"M":"line1\nline2\t\"q\" \u00e9","__SEQNUM":"9","E":""})"
               "\n",
               {R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"5","__MONOTONIC_TIMESTAMP":"0","DUP":["one","two"],)"
                R"("RAW":[255,254,0,97],"MIX":[[1,2],"text"],"M":"line1\nline2\t\"q\" é","E":""})"},
               {}});
  c.push_back({"nulls skipped and counted", R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"5","BIG":null,"R":[null,"x"]})",
               {R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"5","__MONOTONIC_TIMESTAMP":"0","R":"x"})"},
               {},
               2});
  c.push_back({"numeric timestamps accepted", R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":5,"__MONOTONIC_TIMESTAMP":6})",
               {R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"5","__MONOTONIC_TIMESTAMP":"6"})"},
               {}});
  c.push_back({"invalid JSON line, then more", kL1 + "\n{\"MESSAGE\": \n" + kL2 + "\n", {kL1, kL2},
               {{2, "invalid JSON"}}});
  c.push_back({"trailing garbage", kL1 + " x\n" + kL2, {kL2}, {{1, "invalid JSON"}}});
  c.push_back({"not an object", "[1,2]\n\"s\"\n42\n" + kL1, {kL1},
               {{1, "not a JSON object"}, {2, "not a JSON object"}, {3, "not a JSON object"}}});
  c.push_back({"invalid UTF-8 inside a string", std::string("{\"MESSAGE\":\"caf\xe9\"}\n") + kL1, {kL1},
               {{1, "invalid JSON"}}});
  c.push_back({"missing __REALTIME_TIMESTAMP", R"({"__CURSOR":"c","MESSAGE":"x"})" "\n" + kL1, {kL1},
               {{1, "no __REALTIME_TIMESTAMP"}}});
  c.push_back({"invalid __REALTIME_TIMESTAMP", R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"-3"})" "\n" + kL1, {kL1},
               {{1, "invalid __REALTIME_TIMESTAMP"}}});
  c.push_back({"invalid field names dropped", R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","lower":"x","A B":"y","OK":"z"})",
               {R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","__MONOTONIC_TIMESTAMP":"0","OK":"z"})"},
               {{1, "invalid field name 'lower'"}, {1, "invalid field name 'A B'"}}});
  c.push_back({"values of other shapes dropped",
               R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","B":true,"N":-1,"F":1.5,"O":{"x":[1]},"BIG":[256],)"
               R"("NEST":[[1,[2]]],"S":[1,"x"],"OK":"z"})",
               {R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","__MONOTONIC_TIMESTAMP":"0","OK":"z"})"},
               {{1, "'B' holds a boolean"},
                {1, "'N' holds a negative number"},
                {1, "'F' holds a fractional number"},
                {1, "'O' holds an object"},
                {1, "'BIG' holds a number above 255"},
                {1, "'NEST' holds a nested array"},
                {1, "'S' holds a string"}}});
  c.push_back({"empty input", "", {}, {}});
  return c;
}

}  // namespace

TEST_CASE("json: table of journalctl-shaped and malformed lines, mapped and chunked", "[sources][json]") {
  for (const auto& tc : cases()) {
    for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{64},
                                    std::size_t{4096}}) {
      INFO("case: " << tc.name << ", chunk " << chunk);
      const Run r = read_all(tc.input, chunk);
      INFO(problems_text(r));
      CHECK(r.events == tc.events);
      CHECK(r.nulls == tc.nulls);
      REQUIRE(r.problems.size() == tc.problems.size());
      for (std::size_t i = 0; i < tc.problems.size(); ++i) {
        CHECK(r.problems[i].is_line);
        CHECK(r.problems[i].input == "test.json");
        CHECK(r.problems[i].offset == tc.problems[i].first);
        CHECK(r.problems[i].message.find(tc.problems[i].second) != std::string::npos);
      }
    }
  }
}

TEST_CASE("json: projection with a closed schema", "[sources][json]") {
  const std::string line =
      R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":"m","_PID":"1","_COMM":"x","RAW":[1],"_HOSTNAME":"h"})";
  const Run r = read_all(line, 0, {}, {"_PID"});
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0] ==
        R"({"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","__MONOTONIC_TIMESTAMP":"0","MESSAGE":"m","_PID":"1","_HOSTNAME":"h"})");
}

TEST_CASE("json: over-long lines are skipped without buffering them", "[sources][json]") {
  SourceOptions options;
  options.max_entry_size = 1024;
  const std::string big = R"({"__REALTIME_TIMESTAMP":"1","MESSAGE":")" + std::string(4u << 20, 'x') + "\"}";
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{100}, std::size_t{100000}}) {
    INFO("chunk " << chunk);
    const Run r = read_all(kL1 + "\n" + big + "\n" + kL2 + "\n", chunk, options);
    INFO(problems_text(r));
    CHECK(r.events == std::vector<std::string>{kL1, kL2});
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].offset == 2);
    CHECK(r.problems[0].message.find("longer than 1024 bytes") != std::string::npos);
    if (chunk != 0) CHECK(r.buffer_capacity < (2u << 20));
  }
}

TEST_CASE("json: truncation of long values is reported once", "[sources][json]") {
  SourceOptions options;
  options.max_field_size = 3;
  const Run r = read_all(R"({"__CURSOR":"a","__REALTIME_TIMESTAMP":"1","M":"abcdef","R":[1,2,3,4]})" "\n"
                         R"({"__CURSOR":"b","__REALTIME_TIMESTAMP":"2","M":"ghijkl"})",
                         0, options);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0] == R"({"__CURSOR":"a","__REALTIME_TIMESTAMP":"1","__MONOTONIC_TIMESTAMP":"0","M":"abc","R":[1,2,3]})");
  CHECK(r.problems.size() == 1);
}

TEST_CASE("json: synthesised cursor equals the export reader's for the same entry", "[sources][json]") {
  const std::string json =
      R"({"__REALTIME_TIMESTAMP":"1000","__MONOTONIC_TIMESTAMP":"255","_BOOT_ID":"bbb","MESSAGE":"hi","RAW":[0,1],"D":["x","y"],"N":null})";
  std::string exp = "__REALTIME_TIMESTAMP=1000\n__MONOTONIC_TIMESTAMP=255\n_BOOT_ID=bbb\nMESSAGE=hi\nRAW\n";
  exp += std::string("\x02\0\0\0\0\0\0\0", 8) + std::string("\0\x01", 2) + "\nD=x\nD=y\n\n";
  FieldSchema s1;
  s1.add("_PID");
  JsonReader jr("j", jcorr::sources::memory_input(json), s1, {}, {});
  FieldSchema s2;
  s2.set_open(true);
  jcorr::sources::ExportReader er("e", jcorr::sources::memory_input(exp), s2, {}, {});
  Event a;
  Event b;
  REQUIRE(jr.next(a));
  REQUIRE(er.next(b));
  CHECK(a.cursor.starts_with("b=bbb;m=ff;t=3e8;x="));
  CHECK(a.cursor == b.cursor);
}
