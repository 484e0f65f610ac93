// A throw-away directory tree for scanner and filesystem tests: files with modes,
// symlinks, directories, removed when the object goes.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace jcorr::baseline::testing {

class TempTree {
 public:
  TempTree() {
    ::umask(022);  // modes in tests are exact
    std::string pattern = (std::filesystem::temp_directory_path() / "jcorr-baseline-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;
  ~TempTree() {
    make_removable(root_);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  const std::filesystem::path& root() const { return root_; }

  // The host path of rel (an absolute path inside the tree).
  std::filesystem::path host(std::string_view rel) const { return root_ / std::filesystem::path(rel).relative_path(); }

  // Writes content to rel, creating parent directories, and sets its mode.
  void write(std::string_view rel, std::string_view content, unsigned mode = 0644) const {
    const auto p = host(rel);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    chmod(rel, mode);
  }

  // Creates directory rel (and its parents).
  void mkdir(std::string_view rel, unsigned mode = 0755) const {
    std::filesystem::create_directories(host(rel));
    chmod(rel, mode);
  }

  // Creates a symlink at rel whose raw target is target.
  void symlink(std::string_view rel, std::string_view target) const {
    const auto p = host(rel);
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(std::filesystem::path(target), p);
  }

  void chmod(std::string_view rel, unsigned mode) const { ::chmod(host(rel).c_str(), static_cast<mode_t>(mode)); }

  void chown(std::string_view rel, unsigned uid, unsigned gid) const {
    if (::lchown(host(rel).c_str(), uid, gid) != 0) throw std::runtime_error("lchown failed");
  }

  void set_mtime(std::string_view rel, long seconds) const {
    const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ::utimensat(AT_FDCWD, host(rel).c_str(), times, AT_SYMLINK_NOFOLLOW);
  }

 private:
  // Tests chmod directories to 0000; give them back to their owner so they can go.
  static void make_removable(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec))) return;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) make_removable(entry.path());
  }

  std::filesystem::path root_;
};

}  // namespace jcorr::baseline::testing
