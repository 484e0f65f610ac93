#include "sources/text_rules.h"

#include <cstring>

namespace jcorr::sources::detail {
namespace {

// Decodes one UTF-8 sequence at p (n > 0 bytes available). Returns its length and sets
// cp, or 0 when the sequence is malformed.
std::size_t decode(const unsigned char* p, std::size_t n, std::uint32_t& cp) {
  const unsigned c = p[0];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0u) == 0x80u; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) return 0;
    cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;   // surrogate
    cp = ((c & 0x0Fu) << 12) | (static_cast<std::uint32_t>(p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
    cp = ((c & 0x07u) << 18) | (static_cast<std::uint32_t>(p[1] & 0x3Fu) << 12) |
         (static_cast<std::uint32_t>(p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    return 4;
  }
  return 0;
}

bool ascii_word(const unsigned char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return (w & 0x8080808080808080ull) == 0;
}

}  // namespace

bool is_valid_field_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  for (const char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n && ascii_word(p + i)) {
      i += 8;
      continue;
    }
    if (p[i] < 0x80) {  // the ASCII bytes of a short tail, one by one without decode()
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = decode(p + i, n - i, cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool is_journal_printable(std::string_view bytes, bool allow_newline) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    std::uint32_t cp = 0;
    const std::size_t len = decode(p + i, n - i, cp);
    if (len == 0) return false;
    if (cp < 0x20 && cp != '\t' && !(allow_newline && cp == '\n')) return false;
    if (cp >= 0x7F && cp <= 0x9F) return false;
    if (cp >= 0xFDD0 && cp <= 0xFDEF) return false;
    if ((cp & 0xFFFEu) == 0xFFFEu) return false;
    i += len;
  }
  return true;
}

std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  if (text.size() < 20) {  // at most 19 digits: below 10^19, no overflow to check
    for (const char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  }
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace jcorr::sources::detail
