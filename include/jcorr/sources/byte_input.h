// Raw bytes of one input for the text readers (Journal Export Format, JSON lines).
//
// A ByteInput is either mapped (a regular file mapped into memory, or bytes already in
// memory): the readers then parse it in place without copying; or a stream (stdin, a
// pipe, a test feeding tiny chunks), which the readers pull in chunks into a buffer that
// holds at most one entry plus one chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace jcorr::sources {

class ByteInput {
 public:
  virtual ~ByteInput() = default;

  // Copies up to `size` bytes into `buffer` and returns how many were copied; 0 only at
  // end of input. Read errors come back as an error code (EINTR is retried inside).
  virtual std::expected<std::size_t, std::error_code> read(char* buffer, std::size_t size) = 0;

  // The whole input when it is in memory (a mapped regular file); nullopt for streams.
  // The view stays valid for the lifetime of this object.
  virtual std::optional<std::string_view> mapped() const { return std::nullopt; }

  // Total size in bytes when known (mapped inputs), 0 otherwise.
  virtual std::uint64_t size() const { return 0; }

  // A hint for mapped files: the bytes [offset, offset + length) of mapped() are about to
  // be read, so their pages may be mapped in one call instead of one page fault every few
  // pages. Does nothing for other inputs, or where the kernel cannot do it; never fails.
  virtual void prefault(std::uint64_t offset, std::uint64_t length) {
    static_cast<void>(offset);
    static_cast<void>(length);
  }
};

// Opens `path` for reading: a regular file is mapped (an empty file is an empty mapped
// input), anything else (FIFO, character device) is read as a stream. Returns the errno
// of open/fstat/mmap on failure.
std::expected<std::unique_ptr<ByteInput>, std::error_code> open_file_input(const std::string& path);

// Reads the file descriptor `fd` as a stream; closes it on destruction when `owned`.
std::unique_ptr<ByteInput> fd_input(int fd, bool owned);

// A mapped input over the bytes of `parent`, which must be mapped and outlive it; for
// reading spans of one mapped file on several threads (prefault() is passed on).
std::unique_ptr<ByteInput> shared_view_input(ByteInput& parent);

// A mapped input over a copy of `bytes` (for tests and for data already in memory).
std::unique_ptr<ByteInput> memory_input(std::string bytes);

// A stream over a copy of `bytes` that returns at most `max_read` bytes per read, so
// tests can make fields straddle chunk boundaries.
std::unique_ptr<ByteInput> chunked_input(std::string bytes, std::size_t max_read);

// A stream that first returns `prefix` (bytes already read from `rest`, e.g. while
// detecting the format) and then whatever `rest` returns.
std::unique_ptr<ByteInput> prefixed_input(std::string prefix, std::unique_ptr<ByteInput> rest);

}  // namespace jcorr::sources
