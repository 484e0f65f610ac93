// to_journal_json: journalctl's string-or-byte-array rule, escapes and repeated fields.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "jcorr/sources/json_writer.h"

using jcorr::core::Event;
using jcorr::core::FieldSchema;

TEST_CASE("json writer: printable values are strings, others byte arrays", "[sources][json-writer]") {
  struct Case {
    const char* name;
    std::string value;
    std::string json;
  };
  const std::vector<Case> cases = {
      {"plain", "hello", R"("hello")"},
      {"empty", "", R"("")"},
      {"tab and newline stay strings", "a\tb\nc", R"("a\tb\nc")"},
      {"quote and backslash escaped", "a\"b\\c/d", R"("a\"b\\c/d")"},
      {"UTF-8 kept raw", "caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
      {"carriage return", "a\rb", "[97,13,98]"},
      {"NUL", std::string("\0", 1), "[0]"},
      {"escape sequence", "\x1b[1m", "[27,91,49,109]"},
      {"DEL", "a\x7f", "[97,127]"},
      {"C1 control U+0085", "a\xc2\x85", "[97,194,133]"},
      {"noncharacter U+FFFE", "\xef\xbf\xbe", "[239,191,190]"},
      {"noncharacter U+FDD0", "\xef\xb7\x90", "[239,183,144]"},
      {"surrogate", "\xed\xa0\x80", "[237,160,128]"},
      {"overlong", "\xc0\xaf", "[192,175]"},
      {"invalid byte", "\xff", "[255]"},
      {"truncated sequence", "\xe2\x82", "[226,130]"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", "[244,144,128,128]"},
      {"U+10FFFD is fine", "\xf4\x8f\xbf\xbd", "\"\xf4\x8f\xbf\xbd\""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    FieldSchema schema;
    const auto id = schema.add("F");
    Event e;
    e.realtime_us = 1;
    e.monotonic_us = 2;
    e.cursor = "s=x;i=1";
    e.add(id, c.value);
    CHECK(jcorr::sources::to_journal_json(e, schema) ==
          R"({"__CURSOR":"s=x;i=1","__REALTIME_TIMESTAMP":"1","__MONOTONIC_TIMESTAMP":"2","F":)" + c.json + "}");
  }
}

TEST_CASE("json writer: repeated fields become arrays in first-seen order", "[sources][json-writer]") {
  FieldSchema schema;
  const auto a = schema.add("A");
  const auto b = schema.add("B");
  Event e;
  e.realtime_us = 5;
  e.add(b, "1");
  e.add(a, "x");
  e.add(b, "");
  e.add(b, "\x01");
  CHECK(jcorr::sources::to_journal_json(e, schema) ==
        R"({"__REALTIME_TIMESTAMP":"5","__MONOTONIC_TIMESTAMP":"0","B":["1","",[1]],"A":"x"})");
}
