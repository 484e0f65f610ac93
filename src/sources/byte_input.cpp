#include "jcorr/sources/byte_input.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace jcorr::sources {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

class FdInput final : public ByteInput {
 public:
  FdInput(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdInput() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  FdInput(const FdInput&) = delete;
  FdInput& operator=(const FdInput&) = delete;

  std::expected<std::size_t, std::error_code> read(char* buffer, std::size_t size) override {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return std::unexpected(last_error());
    }
  }

 private:
  int fd_;
  bool owned_;
};

// Reads served from a view; shared by the mapped file and the in-memory inputs.
class ViewInput : public ByteInput {
 public:
  std::expected<std::size_t, std::error_code> read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min(size, view_.size() - pos_);
    if (n > 0) std::memcpy(buffer, view_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::optional<std::string_view> mapped() const override { return view_; }
  std::uint64_t size() const override { return view_.size(); }

 protected:
  std::string_view view_;
  std::size_t pos_ = 0;
};

class MappedFile final : public ViewInput {
 public:
  MappedFile(void* base, std::size_t size) : base_(base), length_(size) {
    view_ = std::string_view(static_cast<const char*>(base), size);
  }
  ~MappedFile() override {
    if (base_ != nullptr) ::munmap(base_, length_);
  }

  // MADV_POPULATE_READ (Linux 5.14) maps the range's pages, reading them in when they are
  // not cached; older kernels answer EINVAL and the reader goes on taking page faults.
  void prefault(std::uint64_t offset, std::uint64_t length) override {
    if (!can_populate_.load(std::memory_order_relaxed) || offset >= length_) return;
    const std::uint64_t page = 4096;
    const std::uint64_t from = offset & ~(page - 1);
    const std::uint64_t to = std::min<std::uint64_t>(offset + length, length_);
    if (::madvise(static_cast<char*>(base_) + from, static_cast<std::size_t>(to - from), kPopulateRead) != 0 &&
        errno == EINVAL)
      can_populate_.store(false, std::memory_order_relaxed);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

 private:
  // The value from <linux/mman.h>; glibc 2.36's <sys/mman.h> already has it, older ones not.
#ifdef MADV_POPULATE_READ
  static constexpr int kPopulateRead = MADV_POPULATE_READ;
#else
  static constexpr int kPopulateRead = 22;
#endif

  void* base_;
  std::size_t length_;
  std::atomic<bool> can_populate_{true};  // spans of one file are prefaulted from several threads
};

class SharedView final : public ViewInput {
 public:
  explicit SharedView(ByteInput& parent) : parent_(parent) { view_ = parent.mapped().value_or(std::string_view{}); }
  void prefault(std::uint64_t offset, std::uint64_t length) override { parent_.prefault(offset, length); }

 private:
  ByteInput& parent_;
};

class MemoryInput final : public ViewInput {
 public:
  explicit MemoryInput(std::string bytes) : bytes_(std::move(bytes)) { view_ = bytes_; }

 private:
  std::string bytes_;
};

class ChunkedInput final : public ByteInput {
 public:
  ChunkedInput(std::string bytes, std::size_t max_read) : bytes_(std::move(bytes)), max_read_(std::max<std::size_t>(1, max_read)) {}
  std::expected<std::size_t, std::error_code> read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, max_read_, bytes_.size() - pos_});
    if (n > 0) std::memcpy(buffer, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t max_read_;
  std::size_t pos_ = 0;
};

class PrefixedInput final : public ByteInput {
 public:
  PrefixedInput(std::string prefix, std::unique_ptr<ByteInput> rest) : prefix_(std::move(prefix)), rest_(std::move(rest)) {}
  std::expected<std::size_t, std::error_code> read(char* buffer, std::size_t size) override {
    if (pos_ < prefix_.size()) {
      const std::size_t n = std::min(size, prefix_.size() - pos_);
      std::memcpy(buffer, prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return rest_->read(buffer, size);
  }

 private:
  std::string prefix_;
  std::unique_ptr<ByteInput> rest_;
  std::size_t pos_ = 0;
};

}  // namespace

std::expected<std::unique_ptr<ByteInput>, std::error_code> open_file_input(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(last_error());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto ec = last_error();
    ::close(fd);
    return std::unexpected(ec);
  }
  if (!S_ISREG(st.st_mode)) return fd_input(fd, true);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return memory_input(std::string());
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const auto ec = last_error();
  ::close(fd);  // the mapping keeps the file
  if (base == MAP_FAILED) return std::unexpected(ec);
  ::madvise(base, size, MADV_SEQUENTIAL);
  return std::make_unique<MappedFile>(base, size);
}

std::unique_ptr<ByteInput> fd_input(int fd, bool owned) { return std::make_unique<FdInput>(fd, owned); }

std::unique_ptr<ByteInput> shared_view_input(ByteInput& parent) { return std::make_unique<SharedView>(parent); }

std::unique_ptr<ByteInput> memory_input(std::string bytes) { return std::make_unique<MemoryInput>(std::move(bytes)); }

std::unique_ptr<ByteInput> chunked_input(std::string bytes, std::size_t max_read) {
  return std::make_unique<ChunkedInput>(std::move(bytes), max_read);
}

std::unique_ptr<ByteInput> prefixed_input(std::string prefix, std::unique_ptr<ByteInput> rest) {
  return std::make_unique<PrefixedInput>(std::move(prefix), std::move(rest));
}

}  // namespace jcorr::sources
