// The three readers against real journal tooling: an export is turned into a .journal
// by systemd-journal-remote, journalctl renders that file as JSON and as export, and the
// journal, export and JSON readers must all see the same entries, which our JSON writer
// must render as journalctl does. Corrupt journal files must be reported, not crash.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "jcorr/sources/json_writer.h"
#include "jcorr/sources/source.h"

using jcorr::core::Event;
using jcorr::core::FieldSchema;
using jcorr::sources::InputProblem;
using jcorr::sources::SourceOptions;

namespace {

const char* const kJournalRemote = "/lib/systemd/systemd-journal-remote";

std::string make_temp_dir() {
  std::string tmpl = "/tmp/jcorr-sources-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct TempDir {
  std::string path = make_temp_dir();
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(("set -e; " + command).c_str()) == 0);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string bin(const std::string& name, const std::string& value) {
  return name + "\n" + le64(value.size()) + value + "\n";
}

// Hand-made export with the field shapes journalctl distinguishes.
std::string crafted_export() {
  std::string s;
  for (int i = 0; i < 5; ++i) {
    s += "__REALTIME_TIMESTAMP=" + std::to_string(1795695118040681 + i * 1000) + "\n";
    s += "__MONOTONIC_TIMESTAMP=" + std::to_string(250457885 + i * 1000) + "\n";
    s += "_BOOT_ID=f6c7f7fdd8df46d5b17587e93457d0c9\n_MACHINE_ID=3d1219c7c4c5404aaa1f6d2a48adfda4\n_HOSTNAME=vm\n";
    s += "MESSAGE=crafted " + std::to_string(i) + "\n";
    s += bin("MULTI", "line1\nline2");
    s += bin("RAW", std::string("\xff\xfe\0abc", 6));
    s += bin("CTRL", "a\rb\x1b[1m\x7f");
    s += bin("C1", "a\xc2\x85z");
    s += bin("NONCHAR", "a\xef\xbf\xbe");
    s += "UTF8=caf\xc3\xa9 \xf0\x9f\x98\x80\n";
    s += "TAB=a\tb\n";
    s += "QUOTE=a\"b\\c/d\n";
    s += "EMPTY=\n";
    s += "DUP=one\nDUP=two\n";
    s += bin("DUP", "\x01\x02");
    s += "DUP=" + std::to_string(i) + "\n";
    s += "\n";
  }
  return s;
}

struct Read {
  std::unique_ptr<FieldSchema> schema = std::make_unique<FieldSchema>();
  std::vector<Event> events;
  std::vector<InputProblem> problems;
  bool opened = false;
};

Read read_input(const std::string& path, std::size_t limit = 1000000) {
  Read r;
  r.schema->set_open(true);
  auto source = jcorr::sources::open_source(path, *r.schema, SourceOptions{},
                                            [&](const InputProblem& p) { r.problems.push_back(p); });
  if (!source) return r;
  r.opened = true;
  Event e;
  while (r.events.size() < limit && source->next(e)) r.events.push_back(e);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

void require_tools() {
  if (::access(kJournalRemote, X_OK) != 0)
    FAIL("systemd-journal-remote is missing at " << kJournalRemote
                                                 << ": install the Debian package systemd-journal-remote");
  if (std::system("command -v journalctl >/dev/null 2>&1") != 0) FAIL("journalctl is missing");
}

// Converts `export_path` into dir/name.journal and renders it with journalctl.
void convert(const std::string& dir, const std::string& name, const std::string& export_path) {
  const std::string j = dir + "/" + name + ".journal";
  run(std::string(kJournalRemote) + " -o '" + j + "' - < '" + export_path + "' 2>/dev/null");
  run("journalctl --file '" + j + "' -o json --all > '" + dir + "/" + name + ".json'");
  run("journalctl --file '" + j + "' -o export > '" + dir + "/" + name + ".export'");
}

void check_three_readers_agree(const std::string& dir, const std::string& name, std::size_t expected) {
  const Read journal = read_input(dir + "/" + name + ".journal");
  const Read exported = read_input(dir + "/" + name + ".export");
  const Read json = read_input(dir + "/" + name + ".json");
  REQUIRE(journal.opened);
  REQUIRE(exported.opened);
  REQUIRE(json.opened);
  CHECK(journal.problems.empty());
  CHECK(exported.problems.empty());
  CHECK(json.problems.empty());
  REQUIRE(journal.events.size() == expected);
  REQUIRE(exported.events.size() == expected);
  REQUIRE(json.events.size() == expected);

  const auto journalctl_lines = lines_of(slurp(dir + "/" + name + ".json"));
  REQUIRE(journalctl_lines.size() == expected);
  for (std::size_t i = 0; i < expected; ++i) {
    INFO(name << " entry " << i << " " << journal.events[i].cursor);
    CHECK(Event::same_entry(journal.events[i], *journal.schema, exported.events[i], *exported.schema));
    CHECK(Event::same_entry(journal.events[i], *journal.schema, json.events[i], *json.schema));
    CHECK(journal.events[i].cursor == exported.events[i].cursor);
    CHECK(journal.events[i].cursor == json.events[i].cursor);
    const auto theirs = nlohmann::json::parse(journalctl_lines[i]);
    for (const Read* r : {&journal, &exported, &json}) {
      const std::string ours = jcorr::sources::to_journal_json(r->events[i], *r->schema);
      INFO("ours:   " << ours << "\ntheirs: " << journalctl_lines[i]);
      CHECK(nlohmann::json::parse(ours) == theirs);
    }
  }
}

}  // namespace

TEST_CASE("sources integration: reference records agree across journal, export and JSON readers",
          "[sources][integration]") {
  require_tools();
  TempDir dir;
  convert(dir.path, "ref", std::string(JCORR_SHARED_DIR) + "/reference-records/sshd-sudo-su.export");
  check_three_readers_agree(dir.path, "ref", 66);
}

TEST_CASE("sources integration: binary, control, repeated fields agree across readers", "[sources][integration]") {
  require_tools();
  TempDir dir;
  spit(dir.path + "/crafted.in", crafted_export());
  convert(dir.path, "crafted", dir.path + "/crafted.in");
  check_three_readers_agree(dir.path, "crafted", 5);

  // The original export (no cursors) reads as the same entries apart from the cursor.
  const Read original = read_input(dir.path + "/crafted.in");
  const Read journal = read_input(dir.path + "/crafted.journal");
  REQUIRE(original.events.size() == 5);
  CHECK(original.problems.empty());
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(original.events[i].realtime_us == journal.events[i].realtime_us);
    CHECK(original.events[i].cursor.starts_with("b=f6c7f7fdd8df46d5b17587e93457d0c9;m="));
    auto a = nlohmann::json::parse(jcorr::sources::to_journal_json(original.events[i], *original.schema));
    auto b = nlohmann::json::parse(jcorr::sources::to_journal_json(journal.events[i], *journal.schema));
    a.erase("__CURSOR");
    b.erase("__CURSOR");
    CHECK(a == b);
  }
}

TEST_CASE("sources integration: a journal directory and merged inputs", "[sources][integration]") {
  require_tools();
  TempDir dir;
  run("mkdir -p '" + dir.path + "/dir'");
  spit(dir.path + "/crafted.in", crafted_export());
  run(std::string(kJournalRemote) + " -o '" + dir.path + "/dir/a.journal' - < '" + JCORR_SHARED_DIR +
      "/reference-records/sshd-sudo-su.export' 2>/dev/null");
  run(std::string(kJournalRemote) + " -o '" + dir.path + "/dir/b.journal' - < '" + dir.path + "/crafted.in' 2>/dev/null");
  const Read all = read_input(dir.path + "/dir");
  REQUIRE(all.opened);
  CHECK(all.problems.empty());
  CHECK(all.events.size() == 66 + 5);
  for (std::size_t i = 1; i < all.events.size(); ++i) CHECK(all.events[i - 1].realtime_us <= all.events[i].realtime_us);
}

TEST_CASE("sources integration: corrupt journal files are reported, not fatal", "[sources][integration]") {
  require_tools();
  TempDir dir;
  convert(dir.path, "ref", std::string(JCORR_SHARED_DIR) + "/reference-records/sshd-sudo-su.export");
  const std::string good = slurp(dir.path + "/ref.journal");
  REQUIRE(good.size() > 4096);
  std::uint64_t tail = 0;  // Header.tail_object_offset: where the last object starts
  for (int i = 7; i >= 0; --i) tail = (tail << 8) | static_cast<unsigned char>(good[136 + static_cast<std::size_t>(i)]);
  REQUIRE(tail > 4096);
  REQUIRE(tail < good.size());

  struct Damage {
    const char* name;
    std::string bytes;
  };
  std::vector<Damage> damages;
  damages.push_back({"truncated to half the file", good.substr(0, good.size() / 2)});
  damages.push_back({"truncated inside the objects", good.substr(0, static_cast<std::size_t>(tail / 2))});
  damages.push_back({"truncated header", good.substr(0, 100)});
  {
    std::string b = good;
    for (std::size_t i = static_cast<std::size_t>(tail / 2); i < static_cast<std::size_t>(tail / 2) + 4096; ++i)
      b[i] = static_cast<char>(b[i] ^ 0x5a);
    damages.push_back({"4 KiB flipped in the middle of the objects", b});
  }
  {
    std::string b = good;
    for (std::size_t i = 300; i < static_cast<std::size_t>(tail); i += 97) b[i] = static_cast<char>(b[i] ^ 0xff);
    damages.push_back({"bytes flipped all over the objects", b});
  }
  {
    std::string b = good;
    for (std::size_t i = 160; i < 256; ++i) b[i] = static_cast<char>(0xff);
    damages.push_back({"header counters overwritten", b});
  }
  for (const auto& d : damages) {
    INFO(d.name);
    const std::string path = dir.path + "/bad.journal";
    spit(path, d.bytes);
    const Read r = read_input(path, 100000);
    INFO("opened=" << r.opened << " entries=" << r.events.size() << " problems=" << r.problems.size());
    // Either the file is refused with a report, or whatever sd-journal can still read
    // comes back (no crash, no endless loop); a refusal must say so.
    if (!r.opened) {
      REQUIRE(r.problems.size() == 1);
      CHECK(r.problems[0].input == path);
    }
    // Entries lost to the damage must not vanish silently.
    if (r.events.size() < 66) CHECK_FALSE(r.problems.empty());
    CHECK(r.events.size() <= 66);
  }
}
