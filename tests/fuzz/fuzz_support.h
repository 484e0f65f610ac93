// Shared pieces of the libFuzzer harnesses: a failure macro that survives release
// builds, the shipped rules and a genuine attack chain loaded once per process, and
// small helpers to read inputs completely.
//
// Harnesses check properties, not only "no crash": the export and JSON-lines readers
// must give the same entries whether they parse in place or from a stream of tiny
// reads; detection JSON must parse back; the terminal view must carry no control
// bytes. A broken property aborts, which libFuzzer records as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/core/correlator.h"
#include "jcorr/core/event.h"
#include "jcorr/core/rule_loader.h"
#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/json_reader.h"
#include "jcorr/sources/json_writer.h"

#ifndef JCORR_SOURCE_DIR
#error "JCORR_SOURCE_DIR must name the source tree (the harnesses read rules/ and sample-journals/)"
#endif

// Aborts with the failed property; unlike assert() it stays on in optimised builds.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: property violated: %s (%s)\n", __FILE__, __LINE__, what, \
                   #cond);                                                                  \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace jcorr::fuzz {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz harness: cannot read %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string source_path(std::string_view rel) { return std::string(JCORR_SOURCE_DIR) + "/" + std::string(rel); }

// The shipped rule file's text.
inline const std::string& shipped_rule_text() {
  static const std::string text = read_file(source_path("rules/t1053.006-systemd-timers.json"));
  return text;
}

// The shipped rules, compiled once; aborts if they do not load (the harness would be
// testing nothing).
inline const core::RuleSet& shipped_rules() {
  static const std::unique_ptr<core::RuleSet> set = [] {
    core::RuleLoader loader;
    loader.add(shipped_rule_text(), "t1053.006-systemd-timers.json");
    auto s = loader.finish();
    if (!s || s->rules.empty() || core::has_errors(loader.diagnostics())) {
      std::fprintf(stderr, "fuzz harness: the shipped rules do not load\n");
      std::abort();
    }
    return s;
  }();
  return *set;
}

// Entries of a sample journal that belong to its attack chain (sshd, logind, sudo and
// PID 1 job/reload records), as export text: the part of a journal the rules care about.
inline std::string chain_export(std::string_view sample) {
  const std::string all = read_file(source_path("sample-journals/" + std::string(sample) + "/journal.export"));
  std::string out;
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find("\n\n", pos);
    if (end == std::string::npos) end = all.size();
    const std::string_view entry(all.data() + pos, end - pos);
    const bool relevant = entry.find("\n_COMM=sshd\n") != std::string_view::npos ||
                          entry.find("\n_COMM=sudo\n") != std::string_view::npos ||
                          entry.find("\n_COMM=systemd-logind\n") != std::string_view::npos ||
                          (entry.find("\n_COMM=systemd\n") != std::string_view::npos &&
                           (entry.find("MESSAGE=Reloading") != std::string_view::npos ||
                            entry.find("MESSAGE=Started ") != std::string_view::npos));
    if (relevant) {
      out.append(entry);
      out.append("\n\n");
    }
    pos = end + 2;
  }
  return out;
}

// Reads every entry of export bytes through `schema` (mapped input, problems ignored).
inline std::vector<core::Event> read_export(std::string bytes, core::FieldSchema& schema) {
  sources::ExportReader reader("chain", sources::memory_input(std::move(bytes)), schema, {}, nullptr);
  std::vector<core::Event> out;
  core::Event e;
  while (reader.next(e)) out.push_back(e);
  return out;
}

// Everything a reader produced, in a comparable form.
struct ReadResult {
  std::vector<std::string> entries;  // to_journal_json of each entry, plus its cursor
  std::size_t problems = 0;
  std::size_t max_buffer = 0;
};

template <class Reader>
ReadResult read_all(std::unique_ptr<sources::ByteInput> input, core::FieldSchema& schema,
                    const sources::SourceOptions& options) {
  ReadResult r;
  Reader reader("fuzz", std::move(input), schema, options, [&](const sources::InputProblem& p) {
    ++r.problems;
    FUZZ_CHECK(!p.message.empty(), "a problem report says what is wrong");
  });
  core::Event e;
  while (reader.next(e)) {
    FUZZ_CHECK(!e.cursor.empty(), "every entry has a cursor (read or synthesised)");
    r.entries.push_back(sources::to_journal_json(e, schema) + "\t" + e.cursor);
    r.max_buffer = std::max(r.max_buffer, reader.buffer_capacity());
  }
  FUZZ_CHECK(!reader.next(e), "a finished reader stays finished");
  return r;
}

// Source options with small caps, chosen by one byte, so that the size limits' code
// paths run on small inputs too.
inline sources::SourceOptions small_caps(unsigned char b) {
  sources::SourceOptions o;
  if ((b & 1) == 0) return o;  // defaults
  o.max_entry_size = 64 + static_cast<std::size_t>((b >> 1) & 7) * 96;  // 64 .. 736
  o.max_field_size = 8 + static_cast<std::size_t>((b >> 4) & 3) * 40;   // 8 .. 128
  o.max_fields_per_entry = 2 + static_cast<std::size_t>(b >> 6) * 5;    // 2 .. 17
  return o;
}

}  // namespace jcorr::fuzz
