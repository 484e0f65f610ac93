// The JSON-lines reader's one-pass scanner against its general parser: for every line,
// crafted, taken from the sample journals, or mutated at random, the entries, timestamps,
// cursors, problem reports and null counts must be the same with the scanner on and off.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/json_reader.h"
#include "jcorr/sources/json_writer.h"
#include "jcorr/sources/source.h"

namespace jcorr::sources {
namespace {

struct Read {
  std::vector<std::string> entries;
  std::vector<std::string> problems;
  std::uint64_t nulls = 0;
};

Read read(const std::string& bytes, bool scanner, SourceOptions options, bool open_schema) {
  options.json_scanner = scanner;
  core::FieldSchema schema;
  if (open_schema) {
    schema.set_open(true);
  } else {
    for (const char* f : {"MESSAGE", "_PID", "_COMM", "UNIT", "B", "R", "_SYSTEMD_UNIT"}) schema.add(f);
  }
  Read r;
  JsonReader reader("t.json", memory_input(bytes), schema, options, [&](const InputProblem& p) {
    r.problems.push_back(std::to_string(p.offset) + ": " + p.message);
  });
  core::Event e;
  while (reader.next(e))
    r.entries.push_back(to_journal_json(e, schema) + " " + e.cursor + " " + std::to_string(e.realtime_us) + " " +
                        std::to_string(e.monotonic_us));
  r.nulls = reader.null_values();
  return r;
}

// Compares the two ways of reading `bytes`, under default and small caps, with an open
// and a closed schema.
void same_both_ways(const std::string& bytes) {
  SourceOptions small;
  small.max_field_size = 12;
  small.max_fields_per_entry = 5;
  for (const auto& options : {SourceOptions{}, small}) {
    for (const bool open : {true, false}) {
      const Read general = read(bytes, false, options, open);
      const Read scanned = read(bytes, true, options, open);
      INFO(bytes.substr(0, 400));
      CHECK(scanned.entries == general.entries);
      CHECK(scanned.problems == general.problems);
      CHECK(scanned.nulls == general.nulls);
    }
  }
}

const std::string kHead = R"({"__CURSOR":"s=1;i=1;b=2;m=3;t=4;x=5","__REALTIME_TIMESTAMP":"1795695000000000",)";

}  // namespace

TEST_CASE("json scanner: crafted lines read as the general parser reads them", "[sources][json]") {
  const std::vector<std::string> members = {
      R"("MESSAGE":"plain")",
      R"("MESSAGE":"")",
      R"("MESSAGE":"esc \" \\ \/ \b \f \n \r \t end")",
      R"("MESSAGE":"\u0041\u00e9\u20ac\ud83d\ude00 \u0000 nul")",
      R"("MESSAGE":"lone high \ud83d end")",
      R"("MESSAGE":"lone low \ude00 end")",
      R"("MESSAGE":"high then high \ud83d\ud83d")",
      R"("MESSAGE":"bad hex \u12g4")",
      R"("MESSAGE":"short \u12")",
      R"("MESSAGE":"bad escape \x41")",
      "\"MESSAGE\":\"raw tab \t inside\"",
      "\"MESSAGE\":\"raw control \x01 inside\"",
      "\"MESSAGE\":\"del \x7f ok\"",
      "\"MESSAGE\":\"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok\"",
      "\"MESSAGE\":\"overlong \xc0\xaf\"",
      "\"MESSAGE\":\"surrogate in utf8 \xed\xa0\x80\"",
      "\"MESSAGE\":\"above max \xf4\x90\x80\x80\"",
      "\"MESSAGE\":\"cut \xe2\x82\"",
      R"("MESSAGE":"a string of thirty-three bytes.."  )",
      R"("B":[1,2,255])",
      R"("B":[0])",
      R"("B":[256])",
      R"("B":[01])",
      R"("B":[1.0])",
      R"("B":[1e2])",
      R"("B":[-1])",
      R"("B":[])",
      R"("B":[ 1 , 2 ])",
      R"("B":[1,2,])",
      R"("B":[[1,2],[3]])",
      R"("B":[[]])",
      R"("R":["a",null,"b"])",
      R"("R":[null])",
      R"("R":["a",1])",
      R"("R":[1,"a"])",
      R"("R":["a",["b"]])",
      R"("R":["x","y","z","w","v","u"])",
      R"("UNPROJECTED":["x","y","z","w","v","u"])",
      R"("UNPROJECTED":[1,2,300])",
      R"("UNPROJECTED":7)",
      R"("MESSAGE":null)",
      R"("MESSAGE":true)",
      R"("MESSAGE":12)",
      R"("MESSAGE":{"a":"b"})",
      R"("__CURSOR":null)",
      R"("__CURSOR":["a"])",
      R"("__SEQNUM":"12")",
      R"("__SEQNUM":12)",
      R"("__SEQNUM":[1,2])",
      R"("__REALTIME_TIMESTAMP":"1795695000000001")",
      R"("__REALTIME_TIMESTAMP":"12a")",
      R"("__REALTIME_TIMESTAMP":1795695000000002)",
      R"("__REALTIME_TIMESTAMP":null)",
      R"("__MONOTONIC_TIMESTAMP":"77")",
      R"("__MONOTONIC_TIMESTAMP":"-1")",
      R"("__MONOTONIC_TIMESTAMP":77)",
      R"("bad key":"x")",
      R"("lower":"x")",
      R"("M\u0045SSAGE":"escaped key")",
      R"("_PID":"1","_PID":"2")",
      R"("__CURSOR":"second cursor")",
      R"("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN":"long name")",
  };
  std::string text;
  for (const auto& m : members) text += kHead + m + "}\n";
  // Whole-line shapes.
  for (const std::string& line : {
           kHead + R"("MESSAGE":"x"} )", kHead + R"("MESSAGE":"x"} x)", kHead + R"("MESSAGE":"x",})",
           kHead + R"( "MESSAGE" : "x" , "_PID" : "1" })", "\xef\xbb\xbf" + kHead + R"("MESSAGE":"bom"})",
           std::string(R"({"__REALTIME_TIMESTAMP":"1795695000000000","MESSAGE":"no cursor","_PID":"4"})"),
           std::string(R"({"__CURSOR":"c","MESSAGE":"no time"})"), std::string("{}"), std::string("[]"),
           std::string(R"("just a string")"), kHead + R"("MESSAGE":"x")", kHead.substr(0, kHead.size() - 1) + "}",
           kHead + R"("MESSAGE":"x"}{"a":"b"})", std::string("  \t "), kHead + "\"MESSAGE\":\"x\"}\r",
           kHead + R"("MESSAGE":"unterminated})"}) {
    text += line + "\n";
  }
  same_both_ways(text);
  for (const auto& m : members) same_both_ways(kHead + m + "}\n");
}

TEST_CASE("json scanner: the sample journals read the same both ways", "[sources][json]") {
  std::string text;
  for (const auto& d : std::filesystem::directory_iterator(JCORR_SOURCE_DIR "/sample-journals")) {
    if (!std::filesystem::exists(d.path() / "journal.export")) continue;
    core::FieldSchema open;
    open.set_open(true);
    auto source = open_source((d.path() / "journal.export").string(), open, {}, nullptr);
    REQUIRE(source);
    core::Event e;
    while (source->next(e)) text += to_journal_json(e, open) + "\n";
  }
  REQUIRE(text.size() > 100000);
  same_both_ways(text);
  // And most of it takes the scanner's path: it is the point of having one.
  const Read r = read(text, true, {}, true);
  CHECK(r.problems.empty());
}

TEST_CASE("json scanner: randomly mutated lines read the same both ways", "[sources][json]") {
  // Lines in journalctl's shapes, then bytes replaced, inserted or dropped at random:
  // the scanner must give up on everything the general parser rejects or reports.
  const std::vector<std::string> seeds = {
      kHead + R"("MESSAGE":"Started \"x\" \u00e9 \ud83d\ude00","_PID":"1","B":[1,2,3],"R":["a",null],"X":null})",
      kHead + R"("_COMM":"sudo","MESSAGE":"  alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh","_PID":"42"})",
      kHead + R"("UNIT":"evil.timer","__MONOTONIC_TIMESTAMP":"5","__SEQNUM":"9","MESSAGE":[104,105]})",
  };
  const std::string alphabet = "\"\\{}[],:0123456789nulltrue -.eEu\x01\x7f\xc3\xa9\xed\xa0\xf0\x9f";
  std::mt19937 rng(20261126);
  for (int i = 0; i < 6000; ++i) {
    std::string line = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % line.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: line[at] = c; break;
        case 1: line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: line.erase(at, 1);
      }
    }
    std::erase(line, '\n');
    same_both_ways(line + "\n");
  }
}

}  // namespace jcorr::sources
