#include <cstdio>
#include <cstring>

#include "jcorr/sources/source.h"

namespace jcorr::sources {
namespace {

// A wyhash-style 64-bit hash (64x64->128 multiply-fold). Its output is part of the
// synthesised cursors and therefore of detection ids: it must never change.
__extension__ using U128 = unsigned __int128;

std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

std::uint64_t read8(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t read4(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

constexpr std::uint64_t kP0 = 0xa0761d6478bd642full;
constexpr std::uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr std::uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
constexpr std::uint64_t kP3 = 0x589965cc75374cc3ull;

std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  seed ^= mum(seed ^ kP0, kP1);
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n <= 16) {
    if (n >= 4) {
      const std::size_t q = (n >> 3) << 2;
      a = (read4(p) << 32) | read4(p + q);
      b = (read4(p + n - 4) << 32) | read4(p + n - 4 - q);
    } else if (n > 0) {
      a = (static_cast<std::uint64_t>(p[0]) << 16) | (static_cast<std::uint64_t>(p[n >> 1]) << 8) | p[n - 1];
    }
  } else {
    std::size_t i = n;
    if (i > 48) {
      std::uint64_t s1 = seed;
      std::uint64_t s2 = seed;
      do {
        seed = mum(read8(p) ^ kP1, read8(p + 8) ^ seed);
        s1 = mum(read8(p + 16) ^ kP2, read8(p + 24) ^ s1);
        s2 = mum(read8(p + 32) ^ kP3, read8(p + 40) ^ s2);
        p += 48;
        i -= 48;
      } while (i > 48);
      seed ^= s1 ^ s2;
    }
    while (i > 16) {
      seed = mum(read8(p) ^ kP1, read8(p + 8) ^ seed);
      i -= 16;
      p += 16;
    }
    a = read8(p + i - 16);
    b = read8(p + i - 8);
  }
  a ^= kP1;
  b ^= seed;
  const U128 r = static_cast<U128>(a) * b;
  a = static_cast<std::uint64_t>(r);
  b = static_cast<std::uint64_t>(r >> 64);
  return mum(a ^ kP0 ^ n, b ^ kP1);
}

}  // namespace

void EntryHasher::add(std::string_view field, std::string_view value) {
  // The value is hashed with a seed derived from the name: a hash of "FIELD=value"
  // without building that string (names cannot contain '=').
  x_ ^= hash_bytes(value, hash_bytes(field, 0x6a636f7272ull /* "jcorr" */));
}

std::string EntryHasher::cursor(std::string_view boot_id, std::uint64_t monotonic_us, std::uint64_t realtime_us) const {
  char tail[96];
  const int n = std::snprintf(tail, sizeof tail, ";m=%llx;t=%llx;x=%016llx", static_cast<unsigned long long>(monotonic_us),
                              static_cast<unsigned long long>(realtime_us), static_cast<unsigned long long>(x_));
  std::string out;
  out.reserve(2 + boot_id.size() + static_cast<std::size_t>(n));
  out.append("b=").append(boot_id).append(tail, static_cast<std::size_t>(n));
  return out;
}

}  // namespace jcorr::sources
