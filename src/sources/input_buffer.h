// A sliding window over one ByteInput, shared by the export and JSON-lines readers.
//
// Offsets are absolute byte positions in the input, so they stay valid when a stream's
// buffer is compacted or grown; pointers from at() are valid only until the next fill().
// A mapped input is one window over all of it, and fill() never copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

#include "jcorr/sources/byte_input.h"

namespace jcorr::sources::detail {

class InputBuffer {
 public:
  static constexpr std::size_t kDefaultChunk = 128u << 10;
  static constexpr std::uint64_t kPrefaultChunk = 2u << 20;

  explicit InputBuffer(std::unique_ptr<ByteInput> input, std::size_t chunk = kDefaultChunk);

  // Absolute offset of the first byte held, and one past the last byte held.
  std::uint64_t begin() const { return base_; }
  std::uint64_t end() const { return base_ + len_; }

  // Pointer to the byte at absolute offset `off`, which must lie in [begin(), end()].
  const char* at(std::uint64_t off) const { return data_ + (off - base_); }

  // Makes the bytes up to absolute offset `want` available, first dropping the bytes
  // before `keep` (keep <= end()). Returns true when end() >= want, false when the input
  // ended or failed first (end() then holds everything there is). The buffer grows to
  // want - keep plus one chunk; callers bound that distance.
  bool fill(std::uint64_t keep, std::uint64_t want);

  // For a mapped file, makes sure the pages from `off` to some way ahead are mapped,
  // asking for them a chunk (kPrefaultChunk) at a time; cheap to call for every entry.
  void prefault(std::uint64_t off) {
    if (off + kPrefaultChunk / 2 > prefaulted_ && prefaulted_ < total_) prefault_more(off);
  }

  // True once the input has reported its end (or an error).
  bool at_eof() const { return eof_; }

  // The read error that ended the input, if one did.
  const std::optional<std::error_code>& error() const { return error_; }

  // Total input size when known (mapped inputs), else 0.
  std::uint64_t total_size() const { return total_; }

  // Bytes currently allocated for a stream's buffer (0 for mapped inputs).
  std::size_t capacity() const { return cap_; }

 private:
  void prefault_more(std::uint64_t off);

  std::unique_ptr<ByteInput> input_;
  std::size_t chunk_;
  const char* data_ = nullptr;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::uint64_t base_ = 0;
  std::size_t len_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t prefaulted_ = 0;  // mapped: bytes below this offset have been prefaulted
  bool mapped_ = false;
  bool eof_ = false;
  std::optional<std::error_code> error_;
};

}  // namespace jcorr::sources::detail
