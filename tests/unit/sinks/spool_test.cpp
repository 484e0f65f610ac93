// The spool: durable store named by id, duplicates stored once, the cap, what a crash
// leaves behind, dead letters, and the lock that keeps two owners apart.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "jcorr/sinks/spool.h"
#include "sink_test_util.h"

using jcorr::sinks::Spool;
using jcorr::sinks::SpoolLimits;
using jcorr::sinks::StoreResult;

namespace {

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<Spool> open_ok(const std::string& dir, SpoolLimits limits = {}) {
  auto s = Spool::open(dir, limits);
  INFO((s ? "" : s.error()));
  REQUIRE(s.has_value());
  return std::move(*s);
}

}  // namespace

TEST_CASE("store writes <id>.json with the bytes and nothing else", "[sinks][spool]") {
  jcorr::test::TempDir t;
  const std::string dir = t.path + "/a/b/spool";  // created, parents too
  auto s = open_ok(dir);
  CHECK(s->store("0123abcd", "{\"id\":\"0123abcd\"}\n") == StoreResult::kStored);
  CHECK(names_in(dir) == std::set<std::string>{".lock", "dead-letter", "0123abcd.json"});
  CHECK(slurp(dir + "/0123abcd.json") == "{\"id\":\"0123abcd\"}\n");
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((dir + "/0123abcd.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(s->files() == 1);
  CHECK(s->bytes() == 18);
  CHECK(s->read("0123abcd").value() == "{\"id\":\"0123abcd\"}\n");
}

TEST_CASE("a duplicate id is stored once", "[sinks][spool]") {
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  CHECK(s->store("abc", "first") == StoreResult::kStored);
  CHECK(s->store("abc", "second") == StoreResult::kDuplicate);
  CHECK(s->files() == 1);
  CHECK(s->read("abc").value() == "first");
}

TEST_CASE("ids that are not file-name safe are hashed", "[sinks][spool]") {
  CHECK(Spool::key_for("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef");
  const std::string k = Spool::key_for("../../etc/passwd");
  CHECK(k.size() == 65);
  CHECK(k[0] == 'h');
  CHECK(k.find('/') == std::string::npos);
  CHECK(Spool::key_for("") != Spool::key_for("x"));
  CHECK(Spool::key_for(std::string(129, 'a')).size() == 65);
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  CHECK(s->store("../x", "v") == StoreResult::kStored);
  CHECK(names_in(t.path).contains(Spool::key_for("../x") + ".json"));
}

TEST_CASE("the cap on files and bytes refuses, and frees up when entries go", "[sinks][spool]") {
  jcorr::test::TempDir t;
  SECTION("files") {
    auto s = open_ok(t.path, {1 << 20, 3});
    for (int i = 0; i < 3; ++i) CHECK(s->store("id" + std::to_string(i), "x") == StoreResult::kStored);
    CHECK(s->store("id3", "x") == StoreResult::kFull);
    CHECK(s->store("id0", "x") == StoreResult::kDuplicate);  // already there: still accepted
    CHECK(names_in(t.path).size() == 2 + 3);
    REQUIRE(s->remove("id0"));
    CHECK(s->store("id3", "x") == StoreResult::kStored);
  }
  SECTION("bytes") {
    auto s = open_ok(t.path, {100, 1000});
    CHECK(s->store("a", std::string(60, 'a')) == StoreResult::kStored);
    CHECK(s->store("b", std::string(41, 'b')) == StoreResult::kFull);
    CHECK(s->store("b", std::string(40, 'b')) == StoreResult::kStored);
    CHECK(s->bytes() == 100);
    CHECK(s->store("c", "") == StoreResult::kStored);  // 0 bytes fit
  }
}

TEST_CASE("reopening picks up entries oldest first and drops crash leftovers", "[sinks][spool]") {
  jcorr::test::TempDir t;
  {
    auto s = open_ok(t.path);
    CHECK(s->store("first", "1") == StoreResult::kStored);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(s->store("second", "22") == StoreResult::kStored);
    // What a crash between create and rename leaves: a temporary file, never reported
    // as accepted. And stray files the spool does not own.
    std::ofstream(t.path + "/.tmp.third.123.1") << "partial";
    std::ofstream(t.path + "/notes.txt") << "not mine";
  }
  auto s = open_ok(t.path);
  CHECK(s->files() == 2);
  CHECK(s->bytes() == 3);
  CHECK(s->peek() == "first");
  s->rotate();
  CHECK(s->peek() == "second");
  CHECK_FALSE(names_in(t.path).contains(".tmp.third.123.1"));
  CHECK(names_in(t.path).contains("notes.txt"));
}

TEST_CASE("a store is atomic: a reader sees the whole file or none", "[sinks][spool]") {
  // The file appears only by rename, so at no time is <id>.json present but short.
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  const std::string big(256 * 1024, 'z');
  std::atomic<bool> done{false};
  std::atomic<int> partial{0};
  std::thread watcher([&] {
    while (!done) {
      for (int i = 0; i < 20; ++i) {
        std::ifstream in(t.path + "/e" + std::to_string(i) + ".json", std::ios::binary);
        if (!in) continue;
        std::ostringstream b;
        b << in.rdbuf();
        if (b.str().size() != big.size()) ++partial;
      }
    }
  });
  for (int i = 0; i < 20; ++i) CHECK(s->store("e" + std::to_string(i), big) == StoreResult::kStored);
  done = true;
  watcher.join();
  CHECK(partial == 0);
}

TEST_CASE("remove and dead_letter take entries out; dead letters are kept and counted", "[sinks][spool]") {
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  REQUIRE(s->store("a", "A") == StoreResult::kStored);
  REQUIRE(s->store("b", "B") == StoreResult::kStored);
  REQUIRE(s->dead_letter("b", "{\"status\":400}\n"));
  CHECK(s->files() == 1);
  CHECK(s->dead_letters() == 1);
  CHECK(slurp(t.path + "/dead-letter/b.json") == "{\"status\":400}\n");
  CHECK_FALSE(names_in(t.path).contains("b.json"));
  REQUIRE(s->remove("a"));
  CHECK(s->files() == 0);
  CHECK(s->bytes() == 0);
  CHECK_FALSE(s->peek().has_value());
  CHECK(s->wait_empty(std::chrono::milliseconds(0)));
  s.reset();
  auto again = open_ok(t.path);
  CHECK(again->files() == 0);
  CHECK(again->dead_letters() == 1);
}

TEST_CASE("wait_empty wakes when the last entry goes", "[sinks][spool]") {
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  REQUIRE(s->store("a", "A") == StoreResult::kStored);
  CHECK_FALSE(s->wait_empty(std::chrono::milliseconds(10)));
  std::thread remover([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)s->remove("a");
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK(s->wait_empty(std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  remover.join();
}

TEST_CASE("one owner per spool directory", "[sinks][spool]") {
  jcorr::test::TempDir t;
  auto s = open_ok(t.path);
  auto second = Spool::open(t.path, {});
  REQUIRE_FALSE(second.has_value());
  CHECK_THAT(second.error(), Catch::Contains("in use"));
  s.reset();
  CHECK(Spool::open(t.path, {}).has_value());
}

TEST_CASE("an unusable spool directory is an error, not a crash", "[sinks][spool]") {
  jcorr::test::TempDir t;
  std::ofstream(t.path + "/file") << "x";
  auto s = Spool::open(t.path + "/file/spool", {});
  REQUIRE_FALSE(s.has_value());
  CHECK_FALSE(s.error().empty());
}
