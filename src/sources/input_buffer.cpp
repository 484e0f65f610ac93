#include "sources/input_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace jcorr::sources::detail {

InputBuffer::InputBuffer(std::unique_ptr<ByteInput> input, std::size_t chunk)
    : input_(std::move(input)), chunk_(std::max<std::size_t>(chunk, 64)) {
  if (auto view = input_->mapped()) {
    mapped_ = true;
    eof_ = true;
    data_ = view->data();
    len_ = view->size();
    total_ = view->size();
  }
}

void InputBuffer::prefault_more(std::uint64_t off) {
  const std::uint64_t from = std::max(off, prefaulted_);
  const std::uint64_t to = std::min(total_, from + kPrefaultChunk);
  input_->prefault(from, to - from);
  prefaulted_ = to;
}

bool InputBuffer::fill(std::uint64_t keep, std::uint64_t want) {
  if (want <= end()) return true;
  if (eof_) return false;
  assert(keep >= base_ && keep <= end() && keep <= want);
  const auto drop = static_cast<std::size_t>(keep - base_);
  const auto need = static_cast<std::size_t>(want - keep);
  const std::size_t kept = len_ - drop;
  // Grow when the wanted span plus a chunk does not fit; shrink after an oversized entry
  // so one huge record does not pin its buffer for the rest of the input.
  const std::size_t wanted_cap = need + chunk_;
  if (wanted_cap > cap_ || (cap_ > 8 * chunk_ && wanted_cap < cap_ / 4)) {
    const std::size_t new_cap = wanted_cap > cap_ ? std::max(wanted_cap, std::min(cap_ * 2, need + 8 * chunk_)) : wanted_cap;
    auto fresh = std::make_unique<char[]>(new_cap);
    if (kept > 0) std::memcpy(fresh.get(), buf_.get() + drop, kept);
    buf_ = std::move(fresh);
    cap_ = new_cap;
  } else if (drop > 0 && kept > 0) {
    std::memmove(buf_.get(), buf_.get() + drop, kept);
  }
  data_ = buf_.get();
  base_ = keep;
  len_ = kept;
  while (len_ < need) {
    auto n = input_->read(buf_.get() + len_, cap_ - len_);
    if (!n) {
      error_ = n.error();
      eof_ = true;
      return false;
    }
    if (*n == 0) {
      eof_ = true;
      return false;
    }
    len_ += *n;
  }
  return true;
}

}  // namespace jcorr::sources::detail
