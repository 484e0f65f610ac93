// The recording sink and the JSON-lines sink.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "jcorr/sinks/json_lines_sink.h"
#include "jcorr/sinks/recording_sink.h"
#include "sink_test_util.h"

TEST_CASE("RecordingSink records, and refuses when told to", "[sinks]") {
  jcorr::sinks::RecordingSink s;
  jcorr::sinks::Sink& sink = s;
  CHECK(sink.handle(jcorr::test::sample_detection("a")));
  s.set_accepting(false);
  CHECK_FALSE(sink.handle(jcorr::test::sample_detection("b")));
  s.set_accepting(true);
  CHECK(sink.handle(jcorr::test::sample_detection("c")));
  sink.flush();
  const auto got = s.detections();
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == "a");
  CHECK(got[1].id == "c");
  CHECK(s.refused() == 1);
  CHECK(s.flushes() == 1);
}

TEST_CASE("JsonLinesSink appends canonical JSON lines to a file", "[sinks]") {
  jcorr::test::TempDir t;
  const std::string path = t.path + "/out.jsonl";
  std::ofstream(path) << "existing\n";
  {
    auto s = jcorr::sinks::JsonLinesSink::open_file(path);
    REQUIRE(s.has_value());
    CHECK((*s)->handle(jcorr::test::sample_detection("a")));
    CHECK((*s)->handle(jcorr::test::sample_detection("b")));
    (*s)->flush();
    CHECK((*s)->written() == 2);
  }
  std::ifstream in(path);
  std::ostringstream all;
  all << in.rdbuf();
  CHECK(all.str() == "existing\n" + jcorr::core::to_json_line(jcorr::test::sample_detection("a")) +
                         jcorr::core::to_json_line(jcorr::test::sample_detection("b")));
  CHECK_FALSE(jcorr::sinks::JsonLinesSink::open_file(t.path + "/missing/out.jsonl").has_value());
}

TEST_CASE("JsonLinesSink on a stream it does not own", "[sinks]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    jcorr::sinks::JsonLinesSink s(f);
    CHECK(s.handle(jcorr::test::sample_detection()));
    s.flush();
  }
  std::rewind(f);  // still open: the sink did not close it
  char buf[16] = {};
  CHECK(std::fread(buf, 1, 7, f) == 7);
  CHECK(std::string(buf) == "{\"attac");
  std::fclose(f);
}
