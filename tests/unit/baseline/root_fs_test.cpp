// Path resolution inside a root: symlinks never lead out of it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/root_fs.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using testing::TempTree;

TEST_CASE("root fs resolves symlinks inside the root", "[baseline][rootfs]") {
  TempTree tree;
  tree.write("/etc/passwd", "inside:x:0:0::/root:/bin/sh\n");
  tree.mkdir("/usr/lib/systemd/system");
  tree.write("/usr/lib/systemd/system/a.timer", "[Timer]\n");
  tree.symlink("/lib", "usr/lib");
  tree.symlink("/etc/systemd/system/abs.service", "/etc/passwd");
  tree.symlink("/etc/systemd/system/up.service", "../../../../../../../../etc/passwd");
  tree.symlink("/etc/systemd/system/viaparent.timer", "/lib/systemd/system/a.timer");
  tree.symlink("/etc/systemd/system/dotdot.timer", "/lib/../lib/./systemd/system/a.timer");
  tree.symlink("/etc/systemd/system/loop1.timer", "loop2.timer");
  tree.symlink("/etc/systemd/system/loop2.timer", "loop1.timer");
  tree.symlink("/etc/systemd/system/self.timer", "self.timer");
  tree.symlink("/etc/systemd/system/broken.timer", "/nonexistent/x.timer");
  tree.write("/etc/systemd/system/file.timer", "x");
  tree.mkdir("/etc/systemd/system/dir.timer");
  ::mkfifo(tree.host("/etc/systemd/system/fifo.timer").c_str(), 0644);
  auto fs = RootFs::open(tree.root());
  REQUIRE(fs);

  SECTION("an absolute link to /etc/passwd reads the root's passwd, not the host's") {
    const auto content = fs->read("/etc/systemd/system/abs.service", 1 << 20);
    REQUIRE(content);
    CHECK(content->bytes == "inside:x:0:0::/root:/bin/sh\n");
    CHECK(content->info.path == "/etc/passwd");
  }
  SECTION("../ past the root clamps at the root") {
    CHECK(fs->resolve("/etc/systemd/system/up.service").value() == "/etc/passwd");
    CHECK(fs->resolve("/../../../etc/./passwd").value() == "/etc/passwd");
    CHECK(fs->read("/etc/systemd/system/up.service", 1 << 20)->bytes.starts_with("inside:"));
  }
  SECTION("links in parent directories are followed inside the root") {
    CHECK(fs->resolve("/lib/systemd/system/a.timer").value() == "/usr/lib/systemd/system/a.timer");
    CHECK(fs->resolve("/etc/systemd/system/viaparent.timer").value() == "/usr/lib/systemd/system/a.timer");
    CHECK(fs->resolve("/etc/systemd/system/dotdot.timer").value() == "/usr/lib/systemd/system/a.timer");
  }
  SECTION("follow_final=false keeps a final link") {
    CHECK(fs->resolve("/lib/systemd/system/a.timer", false).value() == "/usr/lib/systemd/system/a.timer");
    CHECK(fs->resolve("/etc/systemd/system/abs.service", false).value() == "/etc/systemd/system/abs.service");
    CHECK(fs->stat("/etc/systemd/system/abs.service", false)->type == FileType::kSymlink);
    CHECK(fs->read_link("/etc/systemd/system/abs.service").value() == "/etc/passwd");
  }
  SECTION("loops are reported after 40 hops") {
    for (const char* p : {"/etc/systemd/system/loop1.timer", "/etc/systemd/system/self.timer"}) {
      const auto r = fs->resolve(p);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == codes::kFsSymlinkLoop);
    }
  }
  SECTION("broken links are told apart from missing paths") {
    const auto broken = fs->read("/etc/systemd/system/broken.timer", 100);
    REQUIRE_FALSE(broken);
    CHECK(broken.error().code == codes::kFsBrokenSymlink);
    const auto missing = fs->resolve("/etc/systemd/system/missing.timer");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == codes::kFsNotFound);
    const auto below_link = fs->resolve("/lib/systemd/user");
    REQUIRE_FALSE(below_link);
    CHECK(below_link.error().code == codes::kFsNotFound);
  }
  SECTION("a file used as a directory") {
    const auto r = fs->resolve("/etc/systemd/system/file.timer/x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == codes::kFsNotDirectory);
  }
  SECTION("directories, FIFOs and oversized files are not read") {
    CHECK(fs->read("/etc/systemd/system/dir.timer", 100).error().code == codes::kFsNotRegular);
    CHECK(fs->read("/etc/systemd/system/fifo.timer", 100).error().code == codes::kFsNotRegular);
    CHECK(fs->read("/etc/passwd", 5).error().code == codes::kFsTooLarge);
  }
  SECTION("listing is sorted and bounded") {
    const auto names = fs->list("/etc/systemd/system", 100);
    REQUIRE(names);
    CHECK(std::is_sorted(names->begin(), names->end()));
    CHECK(std::find(names->begin(), names->end(), "abs.service") != names->end());
    CHECK(fs->list("/etc/systemd/system", 3).error().code == codes::kFsTooManyEntries);
    CHECK(fs->list("/lib", 10).value() == std::vector<std::string>{"systemd"});
  }
  SECTION("the root itself") {
    CHECK(fs->resolve("/").value() == "/");
    CHECK(fs->resolve("").value() == "/");
    CHECK(fs->resolve("/..").value() == "/");
    CHECK(fs->stat("/")->type == FileType::kDirectory);
  }
}

TEST_CASE("root fs refuses a root that is not a directory", "[baseline][rootfs]") {
  TempTree tree;
  tree.write("/file", "x");
  const auto fs = RootFs::open(tree.host("/file"));
  REQUIRE_FALSE(fs);
  CHECK(fs.error().code == codes::kRootUnusable);
  CHECK_FALSE(RootFs::open(tree.host("/missing")));
}

TEST_CASE("root fs path helpers", "[baseline][rootfs]") {
  CHECK(join_path("/etc", "passwd") == "/etc/passwd");
  CHECK(join_path("/", "etc") == "/etc");
  CHECK(parent_path("/etc/passwd") == "/etc");
  CHECK(parent_path("/etc") == "/");
}

}  // namespace jcorr::baseline
