// Reading one file on several threads gives what reading it on one does: the same
// detections in the same order, the same problem reports and the same correlator
// counts, whatever the piece size, and whatever a binary value holds.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jcorr/app/parallel_reader.h"
#include "jcorr/app/rule_files.h"
#include "jcorr/core/correlator.h"
#include "jcorr/core/rule_loader.h"
#include "jcorr/sources/json_writer.h"
#include "unit/sinks/sink_test_util.h"

namespace jcorr::app {
namespace {

using jcorr::test::TempDir;

std::unique_ptr<core::RuleSet> shipped_pack() {
  auto loaded = load_rule_paths({JCORR_SOURCE_DIR "/rules/t1053.006-systemd-timers.json"});
  REQUIRE(loaded.set);
  REQUIRE(!loaded.set->rules.empty());
  return std::move(loaded.set);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string problem_text(const sources::InputProblem& p) {
  return p.input + (p.is_line ? " line " : " offset ") + std::to_string(p.offset) + ": " + p.message;
}

struct Run {
  std::vector<std::string> detections;
  std::vector<std::string> problems;
  core::CorrelatorStats stats;
  std::size_t pieces = 0;
  std::size_t read_again = 0;
};

// The reference: one reader, Correlator::process entry by entry.
Run on_one_thread(core::RuleSet& rules, const std::string& path, const core::CorrelatorOptions& copts = {}) {
  Run r;
  auto report = [&](const sources::InputProblem& p) { r.problems.push_back(problem_text(p)); };
  auto source = sources::open_source(path, rules.schema, {}, report);
  REQUIRE(source);
  core::Correlator c(rules, copts);
  std::vector<core::Detection> out;
  core::Event ev;
  while (source->next(ev)) c.process(ev, out);
  c.finish(out);
  for (const auto& d : out) r.detections.push_back(core::to_json_line(d));
  r.stats = c.stats();
  return r;
}

Run in_pieces(core::RuleSet& rules, const std::string& path, unsigned threads, std::size_t piece_bytes,
              const core::CorrelatorOptions& copts = {}) {
  Run r;
  auto report = [&](const sources::InputProblem& p) { r.problems.push_back(problem_text(p)); };
  auto reader = ParallelReader::open(path, rules, copts.capture_limit, {}, report, {threads, piece_bytes});
  REQUIRE(reader);
  core::Correlator c(rules, copts);
  std::vector<core::Detection> out;
  while (reader->feed(c, out)) {
  }
  c.finish(out);
  for (const auto& d : out) r.detections.push_back(core::to_json_line(d));
  r.stats = c.stats();
  r.pieces = reader->pieces();
  r.read_again = reader->pieces_read_again();
  CHECK(reader->entries() == r.stats.entries);
  return r;
}

void check_same(const Run& one, const Run& many) {
  CHECK(many.detections == one.detections);
  CHECK(many.problems == one.problems);
  CHECK(many.stats.entries == one.stats.entries);
  CHECK(many.stats.matched == one.stats.matched);
  CHECK(many.stats.detections == one.stats.detections);
  CHECK(many.stats.late_entries == one.stats.late_entries);
  CHECK(many.stats.expired == one.stats.expired);
  CHECK(many.stats.evicted == one.stats.evicted);
  CHECK(many.stats.truncated == one.stats.truncated);
}

// The sample journals' export files, and all of them one after another (out of time
// order at every seam, so the watermark and late entries are exercised).
std::vector<std::filesystem::path> sample_exports() {
  std::vector<std::filesystem::path> files;
  for (const auto& d : std::filesystem::directory_iterator(JCORR_SOURCE_DIR "/sample-journals"))
    if (std::filesystem::exists(d.path() / "journal.export")) files.push_back(d.path() / "journal.export");
  std::sort(files.begin(), files.end());
  return files;
}

// The same entries as `journalctl -o json` would write them.
std::string as_json_lines(const std::string& export_path) {
  core::FieldSchema open;
  open.set_open(true);
  auto source = sources::open_source(export_path, open, {}, nullptr);
  REQUIRE(source);
  std::string text;
  core::Event ev;
  while (source->next(ev)) text += sources::to_journal_json(ev, open) + "\n";
  return text;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string binary_field(const std::string& name, const std::string& value) {
  return name + "\n" + le64(value.size()) + value + "\n";
}

}  // namespace

TEST_CASE("parallel reading: every sample journal gives the one-thread result, in export and JSON lines",
          "[parallel]") {
  auto rules = shipped_pack();
  TempDir dir;
  std::string all_export, all_json;
  std::size_t checked = 0;
  for (const auto& file : sample_exports()) {
    const std::string text = read_file(file);
    all_export += text + "\n";
    all_json += as_json_lines(file.string());
  }
  const std::string export_path = dir.path + "/all.export";
  const std::string json_path = dir.path + "/all.json";
  write_file(export_path, all_export);
  write_file(json_path, all_json);
  for (const auto& path : {export_path, json_path}) {
    const Run one = on_one_thread(*rules, path);
    REQUIRE(one.detections.size() >= 10);  // the samples hold many attacks
    for (const std::size_t piece : {std::size_t{61}, std::size_t{977}, std::size_t{8192}, std::size_t{65536}}) {
      for (const unsigned threads : {2u, 3u}) {
        INFO(path << " piece " << piece << " threads " << threads);
        const Run many = in_pieces(*rules, path, threads, piece);
        CHECK(many.pieces >= 2);
        check_same(one, many);
        ++checked;
      }
    }
  }
  CHECK(checked == 16);
}

TEST_CASE("parallel reading: each sample journal alone, in small pieces", "[parallel]") {
  auto rules = shipped_pack();
  for (const auto& file : sample_exports()) {
    INFO(file);
    const Run one = on_one_thread(*rules, file.string());
    const Run many = in_pieces(*rules, file.string(), 2, 509);
    check_same(one, many);
  }
}

TEST_CASE("parallel reading: blank lines and forged entries inside binary values are never taken for entries",
          "[parallel][hostile]") {
  auto rules = shipped_pack();
  TempDir dir;
  // Every other entry carries a binary MESSAGE that looks, from the inside, like the end
  // of an entry followed by a PID 1 timer start: a guessed boundary inside it must be
  // caught, and the piece read again from where the one before really ended.
  const std::string forged =
      "\n\n__CURSOR=s=f;i=1;b=0;m=0;t=0;x=0\n__REALTIME_TIMESTAMP=1795695100000000\n_PID=1\n"
      "_COMM=systemd\n_EXE=/usr/lib/systemd/systemd\n_TRANSPORT=journal\n_SYSTEMD_UNIT=init.scope\n"
      "MESSAGE_ID=7ad2d189f7e94e70a38c781354912448\nUNIT=evil.timer\nMESSAGE=Started evil.timer.\n\n";
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "__CURSOR=s=1;i=" + std::to_string(i) + ";b=2;m=" + std::to_string(i) + ";t=0;x=" + std::to_string(i) +
            "\n__REALTIME_TIMESTAMP=" + std::to_string(1795695000000000ULL + static_cast<std::uint64_t>(i) * 1000) +
            "\n__MONOTONIC_TIMESTAMP=" + std::to_string(i) + "\n_MACHINE_ID=m\n_HOSTNAME=h\n_PID=4242\n_COMM=logger\n";
    if (i % 2 == 0) text += binary_field("MESSAGE", "line one" + forged + "line two");
    else text += "MESSAGE=plain " + std::to_string(i) + "\n";
    text += "\n";
  }
  const std::string path = dir.path + "/forged.export";
  write_file(path, text);
  const Run one = on_one_thread(*rules, path);
  CHECK(one.detections.empty());
  CHECK(one.stats.entries == 400);
  CHECK(one.stats.matched == 0);
  for (const std::size_t piece : {std::size_t{100}, std::size_t{333}, std::size_t{1500}}) {
    INFO("piece " << piece);
    const Run many = in_pieces(*rules, path, 2, piece);
    check_same(one, many);
    CHECK(many.read_again > 0);
  }
}

TEST_CASE("parallel reading: problems keep their offsets and line numbers, once-per-input ones stay once",
          "[parallel][problems]") {
  auto rules = shipped_pack();
  TempDir dir;
  sources::SourceOptions small;
  small.max_field_size = 64;
  std::string ex, js;
  for (int i = 0; i < 300; ++i) {
    const std::string ts = std::to_string(1795695000000000ULL + static_cast<std::uint64_t>(i) * 1000);
    switch (i % 7) {
      case 1:  // no timestamp
        ex += "_PID=1\nMESSAGE=no time\n\n";
        js += "{\"_PID\":\"1\",\"MESSAGE\":\"no time\"}\n";
        break;
      case 3:  // a framing error, and invalid JSON
        ex += "__REALTIME_TIMESTAMP=" + ts + "\nthis line has no equals sign\n\n";
        js += "{\"__REALTIME_TIMESTAMP\":\"" + ts + "\", broken\n";
        break;
      case 5:  // a long value: truncated, reported once per input
        ex += "__REALTIME_TIMESTAMP=" + ts + "\n_PID=1\nMESSAGE=" + std::string(200, 'x') + "\n\n";
        js += "{\"__REALTIME_TIMESTAMP\":\"" + ts + "\",\"_PID\":\"1\",\"MESSAGE\":\"" + std::string(200, 'x') + "\"}\n";
        break;
      default:
        ex += "__REALTIME_TIMESTAMP=" + ts + "\n_PID=1\nUNIT=x.service\nMESSAGE=fine\n\n";
        js += "{\"__REALTIME_TIMESTAMP\":\"" + ts + "\",\"_PID\":\"1\",\"UNIT\":\"x.service\",\"MESSAGE\":\"fine\"}\n\n";
    }
  }
  write_file(dir.path + "/p.export", ex);
  write_file(dir.path + "/p.json", js);
  for (const std::string name : {"/p.export", "/p.json"}) {
    const std::string path = dir.path + name;
    INFO(path);
    std::vector<std::string> one, many;
    {
      auto source = sources::open_source(path, rules->schema, small,
                                         [&](const sources::InputProblem& p) { one.push_back(problem_text(p)); });
      core::Event ev;
      while (source->next(ev)) {
      }
    }
    auto reader = ParallelReader::open(path, *rules, 1024, small,
                                       [&](const sources::InputProblem& p) { many.push_back(problem_text(p)); }, {2, 512});
    REQUIRE(reader);
    core::Correlator c(*rules);
    std::vector<core::Detection> out;
    while (reader->feed(c, out)) {
    }
    CHECK(one.size() > 80);
    CHECK(many == one);
    CHECK(std::count_if(many.begin(), many.end(), [](const std::string& s) {
            return s.find("reported once per input") != std::string::npos;
          }) == 1);
  }
}

TEST_CASE("parallel reading: what cannot be read in pieces is left to the one-thread reader", "[parallel]") {
  auto rules = shipped_pack();
  TempDir dir;
  const std::string sample = JCORR_SOURCE_DIR "/sample-journals/system-timer-sudo/journal.export";
  CHECK(ParallelReader::open(sample, *rules, 1024, {}, nullptr, {1, 512}) == nullptr);         // one thread
  CHECK(ParallelReader::open(sample, *rules, 1024, {}, nullptr, {2, 1u << 20}) == nullptr);    // too small
  CHECK(ParallelReader::open("-", *rules, 1024, {}, nullptr, {2, 512}) == nullptr);            // a stream
  CHECK(ParallelReader::open(dir.path, *rules, 1024, {}, nullptr, {2, 512}) == nullptr);       // a directory
  CHECK(ParallelReader::open(dir.path + "/none", *rules, 1024, {}, nullptr, {2, 512}) == nullptr);
  sources::SourceOptions journal;
  journal.format = sources::Format::kJournal;
  CHECK(ParallelReader::open(sample, *rules, 1024, journal, nullptr, {2, 512}) == nullptr);
  write_file(dir.path + "/magic.journal", "LPKSHHRH" + std::string(4096, '\0'));
  CHECK(ParallelReader::open(dir.path + "/magic.journal", *rules, 1024, {}, nullptr, {2, 512}) == nullptr);
  CHECK(ParallelReader::open(sample, *rules, 1024, {}, nullptr, {2, 512}) != nullptr);

  // An event definition that asks a baseline list: its answers may change between
  // calls, so it is asked on one thread, in order.
  core::LoadOptions options;
  options.baseline_list = [](std::string_view) {
    return core::BaselineListLookup{[](std::string_view v) { return v == "a.timer"; }, ""};
  };
  core::RuleLoader loader(options);
  loader.add(R"({"lists": {"approved": {"baseline": "timers"}},
    "rules": [{"id": "asks-list", "title": "t", "severity": "low",
               "events": {"start": {"where": {"_PID": "1", "UNIT": {"in_list": "approved"}}}},
               "correlate": {"sequence": ["start"]}}]})",
             "list-rules.json");
  auto with_list = loader.finish();
  INFO(loader.diagnostics().size());
  REQUIRE(with_list);
  REQUIRE(with_list->rules.size() == 1);
  CHECK(ParallelReader::open(sample, *with_list, 1024, {}, nullptr, {2, 512}) == nullptr);
}

}  // namespace jcorr::app
