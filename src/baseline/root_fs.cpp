#include "jcorr/baseline/root_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include "jcorr/baseline/codes.h"

namespace jcorr::baseline {
namespace {

struct Pending {
  std::string name;
  bool from_link = false;  // came from a symlink's target rather than from the caller's path
};

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) out.emplace_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

// The path of done + name relative to the root descriptor ("." for the root itself).
std::string relative(const std::vector<std::string>& done, std::string_view name = {}) {
  std::string rel;
  for (const std::string& c : done) {
    if (!rel.empty()) rel += '/';
    rel += c;
  }
  if (!name.empty()) {
    if (!rel.empty()) rel += '/';
    rel += name;
  }
  return rel.empty() ? std::string(".") : rel;
}

std::string absolute(const std::vector<std::string>& done) {
  if (done.empty()) return "/";
  std::string out;
  for (const std::string& c : done) {
    out += '/';
    out += c;
  }
  return out;
}

FsError make_error(std::string_view code, std::string message, int error_number = 0) {
  if (error_number != 0) {
    message += ": ";
    message += std::strerror(error_number);
  }
  return FsError{std::string(code), std::move(message), error_number};
}

FsError errno_error(std::string_view what, std::string_view path, int error_number) {
  const std::string_view code = error_number == EACCES || error_number == EPERM ? codes::kFsUnreadable
                                : error_number == ENOENT                         ? codes::kFsNotFound
                                : error_number == ELOOP                          ? codes::kFsSymlinkLoop
                                : error_number == ENOTDIR                        ? codes::kFsNotDirectory
                                                                                 : codes::kFsError;
  return make_error(code, std::string(what) + " " + std::string(path), error_number);
}

FileType type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISCHR(mode)) return FileType::kCharDevice;
  if (S_ISBLK(mode)) return FileType::kBlockDevice;
  if (S_ISFIFO(mode)) return FileType::kFifo;
  if (S_ISSOCK(mode)) return FileType::kSocket;
  return FileType::kOther;
}

std::string_view type_name(FileType type) {
  switch (type) {
    case FileType::kRegular: return "a regular file";
    case FileType::kDirectory: return "a directory";
    case FileType::kSymlink: return "a symlink";
    case FileType::kCharDevice: return "a character device";
    case FileType::kBlockDevice: return "a block device";
    case FileType::kFifo: return "a FIFO";
    case FileType::kSocket: return "a socket";
    case FileType::kOther: break;
  }
  return "not a regular file";
}

FileInfo info_of(const struct stat& st, std::string path) {
  FileInfo info;
  info.path = std::move(path);
  info.type = type_of(st.st_mode);
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.mode = st.st_mode & 07777u;
  info.mtime = st.st_mtim.tv_sec;
  info.size = st.st_size < 0 ? 0 : static_cast<std::uint64_t>(st.st_size);
  info.device = st.st_dev;
  info.inode = st.st_ino;
  return info;
}

std::expected<std::string, FsError> read_link_at(int fd, const std::string& rel, std::string_view shown) {
  std::string buffer(4096, '\0');
  const ssize_t n = ::readlinkat(fd, rel.c_str(), buffer.data(), buffer.size());
  if (n < 0) return std::unexpected(errno_error("cannot read symlink", shown, errno));
  if (static_cast<std::size_t>(n) >= buffer.size())
    return std::unexpected(make_error(codes::kFsError, "symlink target too long: " + std::string(shown)));
  buffer.resize(static_cast<std::size_t>(n));
  return buffer;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Resolves path component by component inside the root (see the header).
std::expected<std::vector<std::string>, FsError> resolve_components(int root_fd, std::string_view path,
                                                                    bool follow_final) {
  std::deque<Pending> todo;
  for (std::string& c : split_components(path)) todo.push_back(Pending{std::move(c), false});
  std::vector<std::string> done;
  int hops = 0;
  while (!todo.empty()) {
    Pending c = std::move(todo.front());
    todo.pop_front();
    if (c.name == ".") continue;
    if (c.name == "..") {
      if (!done.empty()) done.pop_back();  // ".." at the root stays at the root
      continue;
    }
    const bool last = todo.empty();
    const std::string rel = relative(done, c.name);
    struct stat st {};
    if (::fstatat(root_fd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int e = errno;
      if (e == ENOENT) {
        const std::string where = absolute(done) == "/" ? "/" + c.name : absolute(done) + "/" + c.name;
        if (c.from_link)
          return std::unexpected(make_error(codes::kFsBrokenSymlink, "broken symlink in " + std::string(path) +
                                                                         ": " + where + " does not exist"));
        return std::unexpected(make_error(codes::kFsNotFound, std::string(path) + " does not exist", e));
      }
      return std::unexpected(errno_error("cannot stat", path, e));
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_final)) {
      if (++hops > kMaxSymlinkHops)
        return std::unexpected(make_error(codes::kFsSymlinkLoop, "more than " + std::to_string(kMaxSymlinkHops) +
                                                                     " symlinks (a loop?) resolving " +
                                                                     std::string(path)));
      auto target = read_link_at(root_fd, rel, path);
      if (!target) return std::unexpected(target.error());
      if (target->empty())
        return std::unexpected(make_error(codes::kFsBrokenSymlink, "empty symlink in " + std::string(path)));
      if (target->front() == '/') done.clear();
      const std::vector<std::string> parts = split_components(*target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(Pending{*it, true});
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode))
      return std::unexpected(
          make_error(codes::kFsNotDirectory, absolute(done) + (done.empty() ? "" : "/") + c.name +
                                                 " is not a directory (resolving " + std::string(path) + ")"));
    done.push_back(std::move(c.name));
  }
  return done;
}

}  // namespace

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::expected<RootFs, FsError> RootFs::open(const std::filesystem::path& root) {
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return std::unexpected(make_error(codes::kRootUnusable, "cannot open root directory " + root.string(), e));
  }
  return RootFs(root, fd);
}

RootFs::RootFs(RootFs&& other) noexcept : root_(std::move(other.root_)), fd_(std::exchange(other.fd_, -1)) {}

RootFs& RootFs::operator=(RootFs&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    root_ = std::move(other.root_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RootFs::~RootFs() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<std::string, FsError> RootFs::resolve(std::string_view path, bool follow_final) const {
  auto done = resolve_components(fd_, path, follow_final);
  if (!done) return std::unexpected(done.error());
  return absolute(*done);
}

std::expected<FileInfo, FsError> RootFs::stat(std::string_view path, bool follow_final) const {
  auto done = resolve_components(fd_, path, follow_final);
  if (!done) return std::unexpected(done.error());
  struct stat st {};
  if (::fstatat(fd_, relative(*done).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return std::unexpected(errno_error("cannot stat", path, errno));
  return info_of(st, absolute(*done));
}

std::expected<std::string, FsError> RootFs::read_link(std::string_view path) const {
  auto done = resolve_components(fd_, path, false);
  if (!done) return std::unexpected(done.error());
  return read_link_at(fd_, relative(*done), path);
}

std::expected<std::vector<std::string>, FsError> RootFs::list(std::string_view path, std::size_t max_entries) const {
  auto done = resolve_components(fd_, path, true);
  if (!done) return std::unexpected(done.error());
  const int dir_fd = ::openat(fd_, relative(*done).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0) return std::unexpected(errno_error("cannot open directory", path, errno));
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    const int e = errno;
    ::close(dir_fd);
    return std::unexpected(errno_error("cannot read directory", path, e));
  }
  std::vector<std::string> names;
  bool too_many = false;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (names.size() >= max_entries) {
      too_many = true;
      break;
    }
    names.emplace_back(name);
  }
  const int e = errno;
  ::closedir(dir);
  if (too_many)
    return std::unexpected(make_error(codes::kFsTooManyEntries, std::string(path) + " has more than " +
                                                                    std::to_string(max_entries) + " entries"));
  if (e != 0) return std::unexpected(errno_error("cannot read directory", path, e));
  std::sort(names.begin(), names.end());
  return names;
}

std::expected<FileContent, FsError> RootFs::read(std::string_view path, std::size_t max_size) const {
  auto done = resolve_components(fd_, path, true);
  if (!done) return std::unexpected(done.error());
  const std::string rel = relative(*done);
  struct stat st {};
  if (::fstatat(fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return std::unexpected(errno_error("cannot stat", path, errno));
  // Checked before opening: opening a FIFO or a device can block or have side effects.
  if (!S_ISREG(st.st_mode))
    return std::unexpected(make_error(codes::kFsNotRegular, std::string(path) + " is " +
                                                                std::string(type_name(type_of(st.st_mode))) +
                                                                ", not a regular file"));
  auto too_large = [&](std::uint64_t size) {
    return make_error(codes::kFsTooLarge, std::string(path) + " has " + std::to_string(size) +
                                              " bytes, more than the " + std::to_string(max_size) + " accepted");
  };
  if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > max_size)
    return std::unexpected(too_large(static_cast<std::uint64_t>(st.st_size)));
  Fd fd(::openat(fd_, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return std::unexpected(errno_error("cannot open", path, errno));
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(errno_error("cannot stat", path, errno));
  if (!S_ISREG(st.st_mode))
    return std::unexpected(make_error(codes::kFsNotRegular, std::string(path) + " is not a regular file"));
  FileContent content;
  content.info = info_of(st, absolute(*done));
  std::string& bytes = content.bytes;
  std::size_t used = 0;
  bytes.resize(std::min<std::size_t>(max_size + 1, 64 * 1024));
  for (;;) {
    if (used == bytes.size()) {
      if (bytes.size() > max_size) break;
      bytes.resize(std::min(bytes.size() * 2, max_size + 1));
    }
    const ssize_t n = ::read(fd.get(), bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_error("cannot read", path, errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > max_size) return std::unexpected(too_large(used));
  bytes.resize(used);
  return content;
}

}  // namespace jcorr::baseline
