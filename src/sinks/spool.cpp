#include "jcorr/sinks/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "jcorr/core/sha256.h"

namespace jcorr::sinks {

namespace {

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kTempPrefix = ".tmp.";

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// mkdir -p with mode 0700 for what it creates; each new directory's parent is fsynced
// so the directory itself survives a crash.
std::expected<void, std::string> make_dirs(const std::string& path) {
  std::string prefix;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0700) == 0) {
      const auto slash = prefix.rfind('/');
      const std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : prefix.substr(0, slash));
      Fd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (pfd.get() >= 0) ::fsync(pfd.get());
    } else if (errno != EEXIST) {
      return std::unexpected(errno_text("cannot create", prefix));
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::unexpected(path + " is not a directory");
  return {};
}

// Writes name in the directory dir_fd durably: temporary file, fsync, rename, fsync of
// the directory. A crash at any point leaves either nothing or the complete file
// under name (plus perhaps a temporary file that open() removes).
std::expected<void, std::string> write_durable(int dir_fd, const std::string& dir, const std::string& name,
                                               const std::string& temp, std::string_view bytes) {
  Fd fd(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return std::unexpected(errno_text("cannot create", dir + "/" + temp));
  if (!write_all(fd.get(), bytes) || ::fsync(fd.get()) != 0) {
    auto err = errno_text("cannot write", dir + "/" + temp);
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return std::unexpected(err);
  }
  ::close(fd.release());
  if (::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    auto err = errno_text("cannot rename to", dir + "/" + name);
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return std::unexpected(err);
  }
  if (::fsync(dir_fd) != 0) return std::unexpected(errno_text("cannot fsync", dir));
  return {};
}

}  // namespace

std::string Spool::key_for(std::string_view id) {
  const bool plain = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
  });
  if (plain) return std::string(id);
  return "h" + core::sha256_hex(id);
}

Spool::Spool(std::string dir, SpoolLimits limits, int dir_fd, int lock_fd)
    : dir_(std::move(dir)), limits_(limits), dir_fd_(dir_fd), lock_fd_(lock_fd) {}

Spool::~Spool() {
  if (dead_fd_ >= 0) ::close(dead_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::expected<std::unique_ptr<Spool>, std::string> Spool::open(const std::string& dir_in, SpoolLimits limits) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return std::unexpected("empty spool directory");
  if (auto made = make_dirs(dir + "/dead-letter"); !made) return std::unexpected(made.error());

  Fd lock(::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return std::unexpected(errno_text("cannot open", dir + "/.lock"));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::unexpected("spool " + dir + " is in use by another process or webhook");
    return std::unexpected(errno_text("cannot lock", dir + "/.lock"));
  }
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) return std::unexpected(errno_text("cannot open", dir));
  Fd dead(::open((dir + "/dead-letter").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dead.get() < 0) return std::unexpected(errno_text("cannot open", dir + "/dead-letter"));

  std::unique_ptr<Spool> spool(new Spool(dir, limits, dfd.release(), lock.release()));
  spool->dead_fd_ = dead.release();

  // What a previous run left: complete entries to deliver, temporaries to drop (their
  // store() never returned, so no caller was told they were accepted).
  struct Found {
    std::int64_t sec, nsec;
    std::string key;
    std::uint64_t size;
  };
  std::vector<Found> found;
  {
    DIR* d = ::fdopendir(::dup(spool->dir_fd_));
    if (d == nullptr) return std::unexpected(errno_text("cannot read", dir));
    bool removed = false;
    while (dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name.starts_with(kTempPrefix)) {
        ::unlinkat(spool->dir_fd_, e->d_name, 0);
        removed = true;
        continue;
      }
      if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix) || name.starts_with(".")) continue;
      struct stat st {};
      if (::fstatat(spool->dir_fd_, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      found.push_back({st.st_mtim.tv_sec, st.st_mtim.tv_nsec, std::string(name.substr(0, name.size() - kSuffix.size())),
                       static_cast<std::uint64_t>(st.st_size)});
    }
    ::closedir(d);
    if (removed) ::fsync(spool->dir_fd_);
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return std::tie(a.sec, a.nsec, a.key) < std::tie(b.sec, b.nsec, b.key); });
  for (auto& f : found) {
    spool->bytes_ += f.size;
    spool->sizes_.emplace(f.key, f.size);
    spool->queue_.push_back(std::move(f.key));
  }
  {
    DIR* d = ::fdopendir(::dup(spool->dead_fd_));
    if (d != nullptr) {
      while (dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name.starts_with(kTempPrefix)) ::unlinkat(spool->dead_fd_, e->d_name, 0);
        else if (name.ends_with(kSuffix) && !name.starts_with(".")) ++spool->dead_letters_;
      }
      ::closedir(d);
    }
  }
  return spool;
}

StoreResult Spool::store(std::string_view id, std::string_view bytes, std::string* error) {
  const std::string key = key_for(id);
  // Stores are serialised by store_mutex_ and do their I/O outside mutex_, so the
  // sender is never held up by an fsync; between the check and the insert the sender
  // can only remove entries, which keeps the checks below valid.
  std::lock_guard store_lock(store_mutex_);
  std::uint64_t temp_number = 0;
  {
    std::lock_guard lock(mutex_);
    if (sizes_.contains(key)) return StoreResult::kDuplicate;
    if (queue_.size() + 1 > limits_.max_files || bytes_ + bytes.size() > limits_.max_bytes) return StoreResult::kFull;
    temp_number = ++temp_counter_;
  }
  const std::string temp =
      std::string(kTempPrefix) + key + "." + std::to_string(::getpid()) + "." + std::to_string(temp_number);
  if (auto w = write_durable(dir_fd_, dir_, key + std::string(kSuffix), temp, bytes); !w) {
    if (error) *error = w.error();
    return StoreResult::kFailed;
  }
  {
    std::lock_guard lock(mutex_);
    sizes_.emplace(key, bytes.size());
    queue_.push_back(key);
    bytes_ += bytes.size();
  }
  changed_.notify_all();
  return StoreResult::kStored;
}

std::optional<std::string> Spool::peek() const {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  return queue_.front();
}

void Spool::rotate() {
  std::lock_guard lock(mutex_);
  if (queue_.size() < 2) return;
  queue_.push_back(std::move(queue_.front()));
  queue_.pop_front();
}

std::expected<std::string, std::string> Spool::read(const std::string& key) const {
  const std::string path = path_of(key);
  Fd fd(::openat(dir_fd_, (key + std::string(kSuffix)).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(errno_text("cannot open", path));
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_text("cannot read", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void Spool::forget_locked(const std::string& key) {
  if (auto it = sizes_.find(key); it != sizes_.end()) {
    bytes_ -= it->second;
    sizes_.erase(it);
  }
  if (auto it = std::find(queue_.begin(), queue_.end(), key); it != queue_.end()) queue_.erase(it);
}

std::expected<void, std::string> Spool::remove(const std::string& key) {
  const std::string name = key + std::string(kSuffix);
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT)
    return std::unexpected(errno_text("cannot remove", path_of(key)));
  // Without this fsync a crash could bring a delivered file back; that would only mean
  // a duplicate delivery, but it is cheap next to a network round trip.
  ::fsync(dir_fd_);
  {
    std::lock_guard lock(mutex_);
    forget_locked(key);
  }
  changed_.notify_all();
  return {};
}

std::expected<void, std::string> Spool::dead_letter(const std::string& key, std::string_view record) {
  const std::string name = key + std::string(kSuffix);
  struct stat st {};
  const bool existed = ::fstatat(dead_fd_, name.c_str(), &st, 0) == 0;
  std::uint64_t temp_number = 0;
  {
    std::lock_guard lock(mutex_);
    temp_number = ++temp_counter_;
  }
  const std::string temp =
      std::string(kTempPrefix) + key + "." + std::to_string(::getpid()) + "." + std::to_string(temp_number);
  if (auto w = write_durable(dead_fd_, dead_letter_dir(), name, temp, record); !w) return w;
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT)
    return std::unexpected(errno_text("cannot remove", path_of(key)));
  ::fsync(dir_fd_);
  {
    std::lock_guard lock(mutex_);
    forget_locked(key);
    if (!existed) ++dead_letters_;
  }
  changed_.notify_all();
  return {};
}

bool Spool::wait_empty(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return queue_.empty(); });
}

std::uint64_t Spool::files() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::uint64_t Spool::dead_letters() const {
  std::lock_guard lock(mutex_);
  return dead_letters_;
}

}  // namespace jcorr::sinks
