#include "jcorr/sources/export_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "sources/input_buffer.h"
#include "sources/name_cache.h"
#include "sources/problem_text.h"
#include "sources/text_rules.h"

namespace jcorr::sources {
namespace {

// journald refuses data objects above 768 MiB (DATA_SIZE_MAX); a longer length prefix
// cannot come from a journal and is treated as corruption, not as a value to skip.
constexpr std::uint64_t kMaxPlausibleData = 768ull << 20;

std::uint64_t load_le64(const char* p) {
  unsigned char b[8];
  std::memcpy(b, p, 8);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

bool is_meta(std::string_view name) { return name.size() >= 2 && name[0] == '_' && name[1] == '_'; }

// Names longer than this are invalid (is_valid_field_name).
constexpr std::size_t kMaxFieldName = 64;

enum class Outcome { kEmitted, kSkipped, kEnd };
enum class LineStatus { kOk, kEof, kTooLong };

}  // namespace

struct ExportReader::Impl {
  Impl(std::string n, std::unique_ptr<ByteInput> input, core::FieldSchema& s, const SourceOptions& o, ProblemReporter r,
       ReadSpan span)
      : name(std::move(n)), in(std::move(input)), names(s), options(o), report(std::move(r)), pos(span.begin), span_stop(span.stop) {}

  std::string name;
  detail::InputBuffer in;
  detail::NameCache names;
  SourceOptions options;
  ProblemReporter report;
  std::uint64_t pos = 0;  // absolute offset of the first byte not yet parsed
  std::uint64_t span_stop = UINT64_MAX;  // no entry starting at or after this is read (ReadSpan)
  bool truncation_reported = false;
  bool read_error_reported = false;
  bool stopped = false;
  EntryHasher hasher;

  // Per-entry state.
  std::uint64_t entry_start = 0;
  bool bad = false;       // entry will be skipped (already reported)
  bool discard = false;   // entry is skipped without keeping its bytes
  bool have_realtime = false;
  std::size_t field_count = 0;

  void problem(std::uint64_t offset, std::string message) const {
    if (report) report(InputProblem{name, offset, false, std::move(message)});
  }

  std::uint64_t keep() const { return discard ? pos : entry_start; }

  // Finds the '\n' that ends the line starting at `start`, keeping bytes from `keep_from`.
  LineStatus find_newline(std::uint64_t keep_from, std::uint64_t start, std::uint64_t& nl) {
    std::uint64_t scan = start;
    for (;;) {
      const std::uint64_t e = in.end();
      if (scan < e) {
        const auto* hit = static_cast<const char*>(std::memchr(in.at(scan), '\n', e - scan));
        if (hit != nullptr) {
          nl = scan + static_cast<std::uint64_t>(hit - in.at(scan));
          return LineStatus::kOk;
        }
        scan = e;
      }
      if (in.at_eof()) return LineStatus::kEof;
      if (e - keep_from > options.max_entry_size) return LineStatus::kTooLong;
      if (!in.fill(keep_from, e + 1)) return LineStatus::kEof;
    }
  }

  // Drops every byte up to absolute offset `target` without keeping them.
  bool skip_to(std::uint64_t target) {
    while (in.end() < target) {
      const std::uint64_t e = in.end();
      if (!in.fill(e, std::min(target, e + detail::InputBuffer::kDefaultChunk)) && in.end() < target) return false;
    }
    return true;
  }

  // Drops the line starting at `from` without keeping its bytes. Returns the offset of
  // the '\n' that ends it (nullopt when the input ends first); has_eq says whether the
  // line held a '=' (a text field) or not (as a binary header, it is invalid).
  std::optional<std::uint64_t> skip_line(std::uint64_t from, bool& has_eq) {
    has_eq = false;
    std::uint64_t scan = std::max(from, in.begin());
    for (;;) {
      const std::uint64_t e = in.end();
      if (scan < e) {
        const char* p = in.at(scan);
        const auto* hit = static_cast<const char*>(std::memchr(p, '\n', e - scan));
        const auto len = hit ? static_cast<std::size_t>(hit - p) : static_cast<std::size_t>(e - scan);
        has_eq = has_eq || std::memchr(p, '=', len) != nullptr;
        if (hit) return scan + len;
        scan = e;
      }
      if (!in.fill(e, e + 1)) return std::nullopt;
    }
  }

  // Skips the rest of a broken entry: resumes after the next blank line at or after
  // `from` (a "\n\n" whose first newline is at offset >= from).
  Outcome resync(std::uint64_t from) {
    bad = true;
    std::uint64_t scan = std::max(from, in.begin());
    for (;;) {
      if (!in.fill(std::min(scan, in.end()), scan + 2)) {
        pos = in.end();
        return Outcome::kEnd;
      }
      const std::uint64_t e = in.end();
      while (scan + 1 < e) {
        const auto* hit = static_cast<const char*>(std::memchr(in.at(scan), '\n', e - scan));
        if (hit == nullptr) {
          scan = e;
          break;
        }
        const std::uint64_t h = scan + static_cast<std::uint64_t>(hit - in.at(scan));
        if (h + 1 >= e) {
          scan = h;
          break;
        }
        if (*in.at(h + 1) == '\n') {
          pos = h + 2;
          return Outcome::kSkipped;
        }
        scan = h + 1;
      }
    }
  }

  std::string too_big() const {
    return "entry is larger than " + std::to_string(options.max_entry_size) + " bytes; skipped";
  }

  void start_discarding(const std::string& why) {
    if (!bad) problem(entry_start, why);
    bad = true;
    discard = true;
  }

  void handle_field(core::Event& out, std::string_view field, std::string_view value, bool binary, std::uint64_t offset) {
    if (is_meta(field)) {
      if (field == "__CURSOR") {
        out.cursor.assign(value);
      } else if (field == "__REALTIME_TIMESTAMP") {
        if (auto v = detail::parse_decimal_u64(value)) {
          out.realtime_us = *v;
          have_realtime = true;
        } else {
          problem(offset, "invalid __REALTIME_TIMESTAMP " + detail::quoted(value) + "; entry skipped");
          bad = true;
        }
      } else if (field == "__MONOTONIC_TIMESTAMP") {
        if (auto v = detail::parse_decimal_u64(value))
          out.monotonic_us = *v;
        else
          problem(offset, "invalid __MONOTONIC_TIMESTAMP " + detail::quoted(value) + "; using 0");
      }
      return;
    }
    if (++field_count > options.max_fields_per_entry) {
      problem(entry_start, "entry has more than " + std::to_string(options.max_fields_per_entry) + " fields; skipped");
      bad = true;
      discard = true;
      return;
    }
    const std::int64_t id = names.lookup_at(field_count, field);
    if (id < 0) {
      if (id == detail::NameCache::kInvalid)
        problem(offset, "invalid field name " + detail::quoted(field) + "; field dropped");
      return;
    }
    if (value.size() > options.max_field_size) {
      if (!truncation_reported && report)
        report(InputProblem{name, offset, false,
                            "value of " + std::string(field) + " is longer than " + std::to_string(options.max_field_size) +
                                " bytes; truncated (reported once per input)",
                            true});
      truncation_reported = true;
      value = value.substr(0, options.max_field_size);
    }
    if (!binary && !detail::is_valid_utf8(value))
      problem(offset, "text field " + std::string(field) + " is not valid UTF-8; kept as bytes");
    out.add(static_cast<core::FieldId>(id), value);
  }

  // Hashes every field of the (well-formed, fully buffered) entry in [start, stop).
  void synthesise_cursor(core::Event& out, std::uint64_t start, std::uint64_t stop) {
    hasher.reset();
    std::uint64_t p = start;
    while (p < stop) {
      const char* line = in.at(p);
      const auto* nlp = static_cast<const char*>(std::memchr(line, '\n', stop - p));
      if (nlp == nullptr || nlp == line) break;
      const auto line_len = static_cast<std::size_t>(nlp - line);
      const auto* eq = static_cast<const char*>(std::memchr(line, '=', line_len));
      std::string_view field;
      std::string_view value;
      if (eq != nullptr) {
        field = std::string_view(line, static_cast<std::size_t>(eq - line));
        value = std::string_view(eq + 1, static_cast<std::size_t>(nlp - eq - 1));
        p += line_len + 1;
      } else {
        field = std::string_view(line, line_len);
        const std::uint64_t len = load_le64(nlp + 1);
        value = std::string_view(nlp + 9, static_cast<std::size_t>(len));
        p += line_len + 1 + 8 + len + 1;
      }
      if (!is_meta(field) && detail::is_valid_field_name(field)) hasher.add(field, value);
    }
    out.cursor = hasher.cursor(out.boot_id(), out.monotonic_us, out.realtime_us);
  }

  Outcome finish_entry(core::Event& out, std::uint64_t fields_end) {
    if (bad) return Outcome::kSkipped;
    if (!have_realtime) {
      problem(entry_start, "entry has no __REALTIME_TIMESTAMP; skipped");
      return Outcome::kSkipped;
    }
    if (out.cursor.empty()) synthesise_cursor(out, entry_start, fields_end);
    return Outcome::kEmitted;
  }

  // The common case in one pass: parses the entry at `pos` when it lies wholly in the
  // buffer and has nothing to report (no framing problem, no invalid name, timestamp or
  // UTF-8, nothing over a limit). Each line is found with memchr and split at its first
  // '='; names are checked by the name cache (once per distinct name), not byte by
  // byte. Returns false otherwise, having changed only `out` and the name cache's hints;
  // parse_entry then reads the same entry again and reports what it finds.
  bool parse_entry_fast(core::Event& out) {
    out.clear();
    const char* const base = in.at(pos);
    const char* const end = in.at(in.end());
    const std::size_t max_entry = options.max_entry_size;
    const char* p = base;
    const char* fields_end = nullptr;
    std::size_t count = 0;
    std::size_t prev = detail::NameCache::kFirst;
    bool realtime = false;
    for (;;) {
      if (p == end) {  // the input ends after a whole line: the entry ends there
        if (!in.at_eof()) return false;
        fields_end = p;
        break;
      }
      // The line's end, then its first '=' (glibc's vectorised memchr beats a hand-written
      // word-at-a-time scan of the name here); the name is checked by the name cache,
      // which answers kInvalid for a bad one.
      const char* const key = p;
      const auto* line_end = static_cast<const char*>(std::memchr(key, '\n', static_cast<std::size_t>(end - key)));
      if (line_end == nullptr) return false;  // the buffer ends inside the line
      const auto* eq = static_cast<const char*>(std::memchr(key, '=', static_cast<std::size_t>(line_end - key)));
      const auto name_len = static_cast<std::size_t>((eq != nullptr ? eq : line_end) - key);
      if (name_len > kMaxFieldName) return false;
      p = key + name_len;
      std::string_view value;
      bool binary = false;
      if (*p == '=') {
        if (name_len == 0) return false;
        const char* const v = p + 1;
        value = std::string_view(v, static_cast<std::size_t>(line_end - v));
        p = line_end + 1;
      } else {  // '\n'
        if (name_len == 0) {  // blank line: end of entry
          fields_end = p;
          ++p;
          break;
        }
        if (!detail::is_valid_field_name(std::string_view(key, name_len)) || end - p < 9) return false;
        const std::uint64_t len = load_le64(p + 1);
        const char* const v = p + 9;
        if (len > kMaxPlausibleData || len >= static_cast<std::uint64_t>(end - v) || v[len] != '\n') return false;
        value = std::string_view(v, static_cast<std::size_t>(len));
        binary = true;
        p = v + len + 1;
      }
      if (static_cast<std::size_t>(p - base) > max_entry) return false;
      const std::string_view field(key, name_len);
      if (name_len >= 2 && key[0] == '_' && key[1] == '_') {
        if (name_len == 8 && field == "__CURSOR") {
          out.cursor.assign(value);
        } else if (name_len == 20 && field == "__REALTIME_TIMESTAMP") {
          const auto v = detail::parse_decimal_u64(value);
          if (!v) return false;
          out.realtime_us = *v;
          realtime = true;
        } else if (name_len == 21 && field == "__MONOTONIC_TIMESTAMP") {
          const auto v = detail::parse_decimal_u64(value);
          if (!v) return false;
          out.monotonic_us = *v;
        }
        continue;
      }
      if (++count > options.max_fields_per_entry) return false;
      const std::int64_t id = names.lookup_next(prev, field);
      if (id < 0) {
        if (id == detail::NameCache::kInvalid) return false;
        continue;
      }
      if (value.size() > options.max_field_size) return false;
      if (!binary && !detail::is_valid_utf8(value)) return false;
      out.add(static_cast<core::FieldId>(id), value);
    }
    if (!realtime) return false;
    const std::uint64_t start = pos;
    pos += static_cast<std::uint64_t>(p - base);
    if (out.cursor.empty()) synthesise_cursor(out, start, start + static_cast<std::uint64_t>(fields_end - base));
    return true;
  }

  Outcome parse_entry(core::Event& out) {
    out.clear();
    entry_start = pos;
    bad = false;
    discard = false;
    have_realtime = false;
    field_count = 0;
    for (;;) {
      const std::uint64_t ls = pos;
      std::uint64_t nl = 0;
      const LineStatus st = find_newline(discard ? ls : entry_start, ls, nl);
      if (st == LineStatus::kTooLong) {
        if (!discard) {
          start_discarding(too_big());
          continue;  // retry the line, now keeping only the line itself
        }
        // A single line longer than the whole entry cap: drop it byte for byte up to its
        // newline and go on through the entry's fields, binary values included, so that
        // the entry ends where it ends when read in place. Searching for the next blank
        // line instead could stop inside a later binary value and parse its bytes.
        bool has_eq = false;
        const auto line_end = skip_line(ls, has_eq);
        if (!line_end) {
          pos = in.end();
          return Outcome::kEnd;
        }
        if (!has_eq) return resync(*line_end);  // as when read in place: not a binary header
        pos = *line_end + 1;
        continue;
      }
      if (st == LineStatus::kEof) {
        if (ls == in.end()) return finish_entry(out, ls);  // ended after a whole line, no blank line
        if (!bad) problem(entry_start, "entry is cut off by the end of the input; skipped");
        pos = in.end();
        return Outcome::kEnd;
      }
      if (nl == ls) {  // blank line: end of entry
        pos = nl + 1;
        return finish_entry(out, ls);
      }
      if (!discard && nl + 1 - entry_start > options.max_entry_size) {
        start_discarding(too_big());
      }
      const char* line = in.at(ls);
      const auto line_len = static_cast<std::size_t>(nl - ls);
      if (const auto* eq = static_cast<const char*>(std::memchr(line, '=', line_len))) {
        pos = nl + 1;
        if (!bad)
          handle_field(out, std::string_view(line, static_cast<std::size_t>(eq - line)),
                       std::string_view(eq + 1, static_cast<std::size_t>(line + line_len - eq - 1)), false, ls);
        continue;
      }
      if (Outcome o; !parse_binary(out, ls, nl, o)) return o;
    }
  }

  // Parses the binary field whose name line is [ls, nl). Returns false with `o` set when
  // the entry ends here (broken framing or end of input).
  bool parse_binary(core::Event& out, std::uint64_t ls, std::uint64_t nl, Outcome& o) {
    auto field_name = [&] { return std::string(in.at(ls), static_cast<std::size_t>(nl - ls)); };
    if (!detail::is_valid_field_name(std::string_view(in.at(ls), static_cast<std::size_t>(nl - ls)))) {
      problem(ls, "line " + detail::quoted(std::string_view(in.at(ls), static_cast<std::size_t>(nl - ls))) +
                      " is neither NAME=value nor a binary field header; entry skipped");
      o = resync(nl);
      return false;
    }
    const std::uint64_t len_at = nl + 1;
    if (!in.fill(keep(), len_at + 8)) {
      problem(ls, "binary field " + field_name() + " has no complete length after its name; entry skipped");
      o = resync(nl);
      return false;
    }
    const std::uint64_t len = load_le64(in.at(len_at));
    if (len > kMaxPlausibleData) {
      problem(ls, "binary field " + field_name() + " has an implausible length " + std::to_string(len) + "; entry skipped");
      o = resync(nl);
      return false;
    }
    const std::uint64_t value_at = len_at + 8;
    const std::uint64_t value_end = value_at + len;
    if (!discard && value_end + 1 - entry_start > options.max_entry_size)
      start_discarding(too_big());
    if (discard) {
      const std::string field = field_name();
      if (in.total_size() != 0 || in.at_eof()) {
        if (value_end + 1 > in.end()) {  // everything is in memory: just look
          // As a stream reader must (it keeps none of an oversized value), take the rest
          // of the input as the value's: nothing inside a value is searched for entries.
          problem(ls, "length " + std::to_string(len) + " of binary field " + field + " runs past the end of the input");
          pos = in.end();
          o = Outcome::kEnd;
          return false;
        }
      } else if (!skip_to(value_end + 1)) {
        problem(ls, "length " + std::to_string(len) + " of binary field " + field + " runs past the end of the input");
        pos = in.end();
        o = Outcome::kEnd;
        return false;
      }
      if (*in.at(value_end) != '\n') {
        problem(ls, "binary field " + field + " is not followed by a newline after its " + std::to_string(len) +
                        "-byte value");
        o = resync(value_end);
        return false;
      }
      pos = value_end + 1;
      return true;
    }
    if (!in.fill(entry_start, value_end + 1)) {
      problem(ls, "length " + std::to_string(len) + " of binary field " + field_name() + " runs past the end of the input");
      o = resync(nl);
      return false;
    }
    if (*in.at(value_end) != '\n') {
      problem(ls, "binary field " + field_name() + " is not followed by a newline after its " + std::to_string(len) +
                      "-byte value; entry skipped");
      o = resync(nl);
      return false;
    }
    pos = value_end + 1;
    if (!bad)
      handle_field(out, std::string_view(in.at(ls), static_cast<std::size_t>(nl - ls)),
                 std::string_view(in.at(value_at), static_cast<std::size_t>(len)), true, ls);
    return true;
  }

  bool next(core::Event& out) {
    if (stopped) {
      out.clear();
      return false;
    }
    for (;;) {
      // Blank lines between entries (and between concatenated streams) are skipped.
      while (in.fill(pos, pos + 1) && *in.at(pos) == '\n') ++pos;
      if (pos >= span_stop) {  // the span ends before this entry
        out.clear();
        return false;
      }
      if (pos >= in.end()) break;
      in.prefault(pos);
      if (parse_entry_fast(out)) return true;
      switch (parse_entry(out)) {
        case Outcome::kEmitted:
          return true;
        case Outcome::kSkipped:
          continue;
        case Outcome::kEnd:
          break;
      }
      break;
    }
    if (in.error() && !read_error_reported) {
      read_error_reported = true;
      problem(in.end(), "read error: " + in.error()->message());
    }
    out.clear();
    return false;
  }
};

ExportReader::ExportReader(std::string name, std::unique_ptr<ByteInput> input, core::FieldSchema& schema,
                           const SourceOptions& options, ProblemReporter report, ReadSpan span)
    : impl_(std::make_unique<Impl>(std::move(name), std::move(input), schema, options, std::move(report), span)) {}

ExportReader::~ExportReader() = default;

bool ExportReader::next(core::Event& out) {
  try {
    return impl_->next(out);
  } catch (const std::exception& e) {  // allocation failure: report, stop this input
    impl_->problem(impl_->pos, std::string("reader stopped: ") + e.what());
    impl_->stopped = true;
    out.clear();
    return false;
  }
}

const std::string& ExportReader::name() const { return impl_->name; }

Progress ExportReader::progress() const { return {impl_->pos, impl_->in.total_size()}; }

std::uint64_t ExportReader::resume_at() const { return impl_->pos; }

bool ExportReader::failed() const { return impl_->stopped; }

std::size_t ExportReader::buffer_capacity() const { return impl_->in.capacity(); }

}  // namespace jcorr::sources
