// Read-only access to a directory tree as if it were the filesystem root, the way
// `jcorr baseline --root DIR` looks at a mounted disk image.
//
// Every path is resolved inside the root, one component at a time: ".." stops at the
// root, and symlinks (in any component, absolute or relative) are followed by reading
// them and re-resolving their target inside the root, so a link to /etc/passwd in the
// image means DIR/etc/passwd and never the host's. More than 40 symlinks in one
// resolution is reported as a loop. Files are opened relative to a descriptor of the
// root with O_NOFOLLOW on components that were checked not to be symlinks, so nothing
// on the host outside the root is read. The tree is assumed not to change while it is
// read (a mounted image); a concurrent writer could race the checks. Paths given to and
// returned by this class are absolute paths inside the root ("/etc/systemd/system").
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace jcorr::baseline {

// Why a filesystem operation failed.
struct FsError {
  std::string code;     // a stable fs.* code from codes.h
  std::string message;  // prose including the path
  int error_number = 0; // errno when one applies
};

// The kind of file a path names (lstat semantics).
enum class FileType { kRegular, kDirectory, kSymlink, kCharDevice, kBlockDevice, kFifo, kSocket, kOther };

// Metadata of one file (lstat semantics on the resolved path).
struct FileInfo {
  std::string path;  // resolved path inside the root
  FileType type = FileType::kOther;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t mode = 0;  // permission bits only (07777)
  std::int64_t mtime = 0;  // seconds since the epoch
  std::uint64_t size = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
};

// The bytes of a regular file and the metadata of the descriptor they were read from.
struct FileContent {
  FileInfo info;
  std::string bytes;
};

// The most symlinks one resolution follows (the kernel's limit too).
inline constexpr int kMaxSymlinkHops = 40;

// A directory tree opened as "/"; see the header comment. Movable, not copyable; it
// owns a descriptor of the root.
class RootFs {
 public:
  // Opens root, which must be a directory on the host. Errors carry kRootUnusable.
  static std::expected<RootFs, FsError> open(const std::filesystem::path& root);

  RootFs(RootFs&& other) noexcept;
  RootFs& operator=(RootFs&& other) noexcept;
  RootFs(const RootFs&) = delete;
  RootFs& operator=(const RootFs&) = delete;
  ~RootFs();

  // The host directory this object treats as "/".
  const std::filesystem::path& root() const { return root_; }

  // Resolves path inside the root and returns the resulting absolute path without
  // symlinks. With follow_final false a final symlink is returned as is (its parent
  // directories are still resolved). Errors: kFsNotFound (a component of path is
  // missing), kFsBrokenSymlink (a symlink's target is missing), kFsSymlinkLoop,
  // kFsNotDirectory, kFsError.
  std::expected<std::string, FsError> resolve(std::string_view path, bool follow_final = true) const;

  // Resolves path like resolve() and returns the metadata of what it names.
  std::expected<FileInfo, FsError> stat(std::string_view path, bool follow_final = true) const;

  // Returns the raw target of the symlink path (its parents resolved); kFsNotFound when
  // path does not exist, kFsError with EINVAL when it is not a symlink.
  std::expected<std::string, FsError> read_link(std::string_view path) const;

  // Returns the names in directory path (following symlinks), sorted, without "." and
  // "..". More than max_entries names gives kFsTooManyEntries.
  std::expected<std::vector<std::string>, FsError> list(std::string_view path, std::size_t max_entries) const;

  // Reads the regular file path (following symlinks) if it has at most max_size bytes.
  // Errors: those of resolve(), kFsNotRegular (a directory, device, FIFO or socket; it
  // is never opened for reading, so a FIFO cannot block), kFsTooLarge, kFsUnreadable.
  std::expected<FileContent, FsError> read(std::string_view path, std::size_t max_size) const;

 private:
  RootFs(std::filesystem::path root, int fd) : root_(std::move(root)), fd_(fd) {}

  std::filesystem::path root_;
  int fd_ = -1;
};

// Joins an absolute path inside the root and a name ("/etc" + "passwd").
std::string join_path(std::string_view dir, std::string_view name);

// Returns the directory part of an absolute path inside the root ("/etc/passwd" -> "/etc").
std::string parent_path(std::string_view path);

}  // namespace jcorr::baseline
