#include "sources/json_line_scanner.h"

#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jcorr/core/utf8.h"
#include "sources/text_rules.h"

namespace jcorr::sources::detail {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

// True when one of the 8 bytes of w is '"', '\\', below 0x20 or above 0x7f: the bytes a
// string scan must stop at. (x - 0x01..) & ~x & 0x80.. finds a zero byte; the high-bit
// test covers the bytes above 0x7f, so the subtractions need no care for them.
bool has_special(std::uint64_t w) {
  const std::uint64_t quote = w ^ (kOnes * '"');
  const std::uint64_t backslash = w ^ (kOnes * '\\');
  const std::uint64_t control = w - kOnes * 0x20;  // high bit set where a byte < 0x20 (or > 0x9f)
  return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | (control & ~w) | w) & kHighs;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

enum class Key { kCursor, kRealtime, kMonotonic, kMeta, kField, kUnprojected };

class Scanner {
 public:
  Scanner(std::string_view line, core::Event& out, NameCache& names, const SourceOptions& options, std::string& scratch)
      : line_(line), p_(0), out_(out), names_(names), options_(options), scratch_(scratch) {}

  bool run(std::uint64_t& nulls) {
    out_.clear();
    skip_space();
    if (!eat('{')) return false;
    skip_space();
    if (peek() == '}') return false;  // no __REALTIME_TIMESTAMP
    std::size_t position = 0;
    for (;;) {
      std::string_view key;
      if (!string(key, /*allow_escapes=*/false)) return false;
      skip_space();
      if (!eat(':')) return false;
      skip_space();
      Key kind = Key::kField;
      std::int64_t id = -1;
      if (key.size() >= 2 && key[0] == '_' && key[1] == '_') {
        kind = key == "__CURSOR"                ? Key::kCursor
               : key == "__REALTIME_TIMESTAMP"  ? Key::kRealtime
               : key == "__MONOTONIC_TIMESTAMP" ? Key::kMonotonic
                                                : Key::kMeta;
      } else {
        id = names_.lookup_at(position++, key);
        if (id == NameCache::kInvalid) return false;  // reported by the general parser
        if (id < 0) kind = Key::kUnprojected;
      }
      if (!member(kind, id)) return false;
      skip_space();
      if (eat(',')) {
        skip_space();
        continue;
      }
      if (!eat('}')) return false;
      break;
    }
    skip_space();
    if (p_ != line_.size() || !realtime_ || out_.cursor.empty()) return false;
    nulls += nulls_;
    return true;
  }

 private:
  char peek() const { return p_ < line_.size() ? line_[p_] : '\0'; }
  bool eat(char c) {
    if (peek() != c || p_ >= line_.size()) return false;
    ++p_;
    return true;
  }
  void skip_space() {
    while (p_ < line_.size() && (line_[p_] == ' ' || line_[p_] == '\t' || line_[p_] == '\r' || line_[p_] == '\n')) ++p_;
  }

  // One member's value. Metadata takes a string or null; a field a string, null, an
  // array of strings and nulls (repeated values) or an array of byte numbers (one value).
  bool member(Key kind, std::int64_t id) {
    const bool field = kind == Key::kField || kind == Key::kUnprojected;
    const char c = peek();
    if (c == 'n') return null_literal() && count(field);
    if (c == '"') {
      std::string_view v;
      if (!string(v, true)) return false;
      return take(kind, id, v);
    }
    if (c != '[' || !field) return false;
    ++p_;
    skip_space();
    if (eat(']')) return true;  // an empty array: no value
    if (peek() >= '0' && peek() <= '9') {  // a byte array: one value
      scratch_.clear();
      for (;;) {
        unsigned v = 0;
        if (!byte_number(v)) return false;
        scratch_.push_back(static_cast<char>(static_cast<unsigned char>(v)));
        skip_space();
        if (eat(']')) break;
        if (!eat(',')) return false;
        skip_space();
      }
      return take(kind, id, scratch_);
    }
    for (;;) {  // repeated values
      if (peek() == 'n') {
        if (!null_literal() || !count(true)) return false;
      } else {
        std::string_view v;
        if (peek() != '"' || !string(v, true) || !take(kind, id, v)) return false;
      }
      skip_space();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      skip_space();
    }
  }

  bool null_literal() {
    if (line_.substr(p_, 4) != "null") return false;
    p_ += 4;
    ++nulls_;
    return true;
  }

  // Counts one value of a journal field; past the limit the general parser reports.
  bool count(bool field) { return !field || ++values_ <= options_.max_fields_per_entry; }

  bool take(Key kind, std::int64_t id, std::string_view v) {
    switch (kind) {
      case Key::kCursor:
        out_.cursor.assign(v);
        return true;
      case Key::kRealtime:
      case Key::kMonotonic: {
        const auto t = parse_decimal_u64(v);
        if (!t) return false;
        if (kind == Key::kRealtime) {
          out_.realtime_us = *t;
          realtime_ = true;
        } else {
          out_.monotonic_us = *t;
        }
        return true;
      }
      case Key::kMeta:
        return true;
      case Key::kUnprojected:
        return count(true);
      case Key::kField:
        if (!count(true) || v.size() > options_.max_field_size) return false;
        out_.add(static_cast<core::FieldId>(id), v);
        return true;
    }
    return false;
  }

  // A number 0..255 as JSON writes it (no sign, fraction, exponent or leading zero).
  bool byte_number(unsigned& v) {
    const std::size_t start = p_;
    v = 0;
    while (p_ < line_.size() && line_[p_] >= '0' && line_[p_] <= '9' && p_ - start < 4) {
      v = v * 10 + static_cast<unsigned>(line_[p_] - '0');
      ++p_;
    }
    const std::size_t n = p_ - start;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && line_[start] == '0')) return false;
    const char next = peek();
    return next != '.' && next != 'e' && next != 'E';
  }

  // The string at p_ (which must be '"'). Without escapes it is a view into the line;
  // with them (when allowed) it is decoded into scratch_.
  bool string(std::string_view& v, bool allow_escapes) {
    if (!eat('"')) return false;
    const std::size_t start = p_;
    const char* const data = line_.data();
    const std::size_t size = line_.size();
    for (;;) {
      skip_plain(data, size);
      if (p_ >= size) return false;
      const auto c = static_cast<unsigned char>(data[p_]);
      if (c == '"') {
        v = line_.substr(start, p_ - start);
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!allow_escapes) return false;
        scratch_.assign(data + start, p_ - start);
        return escaped(v);
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const std::size_t n = core::utf8_sequence(line_, p_);
        if (n == 0) return false;
        p_ += n;
      } else {
        ++p_;
      }
    }
  }

  // Moves p_ over plain string bytes (printable ASCII other than '"' and '\\') to the
  // first byte that needs a look, or near the end of the line.
  void skip_plain(const char* data, std::size_t size) {
#ifdef __SSE2__
    // Signed bytes: those above 0x7f are negative, so one "less than 0x20" finds them
    // together with the control bytes.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (p_ + 16 <= size) {
      __m128i x;
      std::memcpy(&x, data + p_, sizeof x);  // an unaligned load
      const __m128i special =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), _mm_cmplt_epi8(x, space));
      const int mask = _mm_movemask_epi8(special);
      if (mask != 0) {
        p_ += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ + 8 <= size) {
      std::uint64_t w;
      std::memcpy(&w, data + p_, 8);
      if (has_special(w)) return;
      p_ += 8;
    }
  }

  // The rest of a string from its first backslash, decoded into scratch_.
  bool escaped(std::string_view& v) {
    const std::size_t size = line_.size();
    while (p_ < size) {
      const auto c = static_cast<unsigned char>(line_[p_]);
      if (c == '"') {
        ++p_;
        v = scratch_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const std::size_t n = core::utf8_sequence(line_, p_);
        if (n == 0) return false;
        scratch_.append(line_.data() + p_, n);
        p_ += n;
        continue;
      }
      if (c != '\\') {
        scratch_.push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      if (++p_ >= size) return false;
      switch (line_[p_++]) {
        case '"': scratch_.push_back('"'); break;
        case '\\': scratch_.push_back('\\'); break;
        case '/': scratch_.push_back('/'); break;
        case 'b': scratch_.push_back('\b'); break;
        case 'f': scratch_.push_back('\f'); break;
        case 'n': scratch_.push_back('\n'); break;
        case 'r': scratch_.push_back('\r'); break;
        case 't': scratch_.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return false;  // a low surrogate alone
          if (cp >= 0xd800 && cp <= 0xdbff) {                // must pair with a low one
            std::uint32_t lo = 0;
            if (line_.substr(p_, 2) != "\\u") return false;
            p_ += 2;
            if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(scratch_, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool hex4(std::uint32_t& cp) {
    if (p_ + 4 > line_.size()) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = hex_digit(line_[p_++]);
      if (d < 0) return false;
      cp = (cp << 4) | static_cast<std::uint32_t>(d);
    }
    return true;
  }

  std::string_view line_;
  std::size_t p_;
  core::Event& out_;
  NameCache& names_;
  const SourceOptions& options_;
  std::string& scratch_;
  std::size_t values_ = 0;
  std::uint64_t nulls_ = 0;
  bool realtime_ = false;
};

}  // namespace

bool scan_json_line(std::string_view line, core::Event& out, NameCache& names, const SourceOptions& options,
                    std::uint64_t& nulls, std::string& scratch) {
  return Scanner(line, out, names, options, scratch).run(nulls);
}

}  // namespace jcorr::sources::detail
