#include "jcorr/sources/json_reader.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "sources/input_buffer.h"
#include "sources/json_line_scanner.h"
#include "sources/name_cache.h"
#include "sources/problem_text.h"
#include "sources/text_rules.h"

namespace jcorr::sources {
namespace {

using Json = nlohmann::json;

enum class KeyKind { kNone, kCursor, kRealtime, kMonotonic, kIgnored, kField };
enum class ArrayMode { kUnknown, kBytes, kRepeated };

bool is_blank(std::string_view line) {
  for (const char c : line)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

// SAX handler filling one Event from one line. With `hashing` set it only feeds every
// field value to the EntryHasher (second pass over a line without __CURSOR).
class LineHandler {
 public:
  LineHandler(detail::NameCache& names, const SourceOptions& options, const std::string& input,
              const ProblemReporter& report, bool& truncation_reported)
      : names_(names), options_(options), input_(input), report_(report), truncation_reported_(truncation_reported) {}

  void begin(core::Event* out, EntryHasher* hasher, std::uint64_t line) {
    out_ = out;
    hasher_ = hasher;
    line_ = line;
    depth_ = 0;
    skip_ = 0;
    seen_object_ = false;
    have_realtime_ = false;
    bad_ = false;
    kind_ = KeyKind::kNone;
    position_ = 0;
    values_ = 0;
    too_many_ = false;
    error_.clear();
  }

  bool have_realtime() const { return have_realtime_; }
  bool bad() const { return bad_; }
  const std::string& error() const { return error_; }
  std::uint64_t nulls() const { return nulls_; }

  // --- nlohmann SAX interface ---
  bool null() {
    if (skip_ > 0) return true;
    if (depth_ == 0) return not_object();
    if (depth_ == 2 && mode_ == ArrayMode::kUnknown) mode_ = ArrayMode::kRepeated;
    if ((depth_ == 1) || (depth_ == 2 && mode_ == ArrayMode::kRepeated)) {
      count_value();
      if (!hasher_) ++nulls_;
      return true;
    }
    return bad_element("null");
  }
  bool boolean(bool) { return skip_ > 0 ? true : (depth_ == 0 ? not_object() : bad_element("a boolean")); }
  bool number_integer(Json::number_integer_t v) {
    if (skip_ > 0) return true;
    if (v >= 0) return number_unsigned(static_cast<Json::number_unsigned_t>(v));
    return depth_ == 0 ? not_object() : bad_element("a negative number");
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    if (skip_ > 0) return true;
    if (depth_ == 0) return not_object();
    if (depth_ == 1) {
      if (kind_ == KeyKind::kRealtime || kind_ == KeyKind::kMonotonic) {
        set_timestamp(v);
        return true;
      }
      return bad_element("a number");
    }
    if (depth_ == 2 && mode_ == ArrayMode::kUnknown) mode_ = ArrayMode::kBytes;
    if ((depth_ == 2 && mode_ == ArrayMode::kBytes) || depth_ == 3) {
      if (v > 255) return bad_element("a number above 255 in a byte array");
      bytes_.push_back(static_cast<char>(static_cast<unsigned char>(v)));
      return true;
    }
    return bad_element("a number");
  }
  bool number_float(Json::number_float_t, const Json::string_t&) {
    return skip_ > 0 ? true : (depth_ == 0 ? not_object() : bad_element("a fractional number"));
  }
  bool string(Json::string_t& v) {
    if (skip_ > 0) return true;
    if (depth_ == 0) return not_object();
    if (depth_ == 2 && mode_ == ArrayMode::kUnknown) mode_ = ArrayMode::kRepeated;
    if (depth_ == 1 || (depth_ == 2 && mode_ == ArrayMode::kRepeated)) {
      value(v);
      return true;
    }
    return bad_element("a string");
  }
  bool binary(Json::binary_t&) { return skip_ > 0 ? true : bad_element("binary"); }
  bool start_object(std::size_t) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (depth_ == 0 && !seen_object_) {
      seen_object_ = true;
      depth_ = 1;
      return true;
    }
    bad_element("an object");
    skip_ = 1;
    return true;
  }
  bool end_object() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    depth_ = 0;
    return true;
  }
  bool key(Json::string_t& k) {
    if (skip_ > 0) return true;
    key_.assign(k);
    kind_ = KeyKind::kIgnored;
    if (k.size() >= 2 && k[0] == '_' && k[1] == '_') {
      if (k == "__CURSOR")
        kind_ = KeyKind::kCursor;
      else if (k == "__REALTIME_TIMESTAMP")
        kind_ = KeyKind::kRealtime;
      else if (k == "__MONOTONIC_TIMESTAMP")
        kind_ = KeyKind::kMonotonic;
      return true;
    }
    if (hasher_) {
      if (detail::is_valid_field_name(k)) kind_ = KeyKind::kField;
      return true;
    }
    id_ = names_.lookup_at(position_++, k);
    if (id_ == detail::NameCache::kInvalid) {
      problem("invalid field name " + detail::quoted(k) + "; field dropped");
    } else if (id_ >= 0) {
      kind_ = KeyKind::kField;
    }
    return true;
  }
  bool start_array(std::size_t) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (depth_ == 0) return not_object();
    if (depth_ == 1) {
      depth_ = 2;
      mode_ = ArrayMode::kUnknown;
      bytes_.clear();
      drop_bytes_ = false;
      return true;
    }
    if (depth_ == 2 && mode_ != ArrayMode::kBytes) {
      mode_ = ArrayMode::kRepeated;
      depth_ = 3;
      bytes_.clear();
      drop_bytes_ = false;
      return true;
    }
    bad_element("a nested array");
    skip_ = 1;
    return true;
  }
  bool end_array() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (depth_ == 3) {
      if (!drop_bytes_) value(bytes_);
      depth_ = 2;
    } else if (depth_ == 2) {
      if (mode_ == ArrayMode::kBytes && !drop_bytes_) value(bytes_);
      depth_ = 1;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    error_ = ex.what();
    return false;
  }

 private:
  void problem(std::string message) const {
    if (report_) report_(InputProblem{input_, line_, true, std::move(message)});
  }

  bool not_object() {
    error_ = "the line is not a JSON object";
    return false;
  }

  bool bad_element(const char* what) {
    if (!hasher_ && kind_ != KeyKind::kIgnored)
      problem("field " + detail::quoted(key_) + " holds " + what + "; value dropped");
    if (kind_ == KeyKind::kRealtime) bad_ = true;
    drop_bytes_ = true;  // a byte array with one bad element is dropped whole
    return true;
  }

  void set_timestamp(std::uint64_t v) {
    if (hasher_) return;
    if (kind_ == KeyKind::kRealtime) {
      out_->realtime_us = v;
      have_realtime_ = true;
    } else {
      out_->monotonic_us = v;
    }
  }

  // Counts one value of a journal field (a repeated field counts each value), as the
  // export reader counts field lines; past max_fields_per_entry the entry is skipped and
  // no more of its values are kept.
  void count_value() {
    if (hasher_ || too_many_ || (key_.size() >= 2 && key_[0] == '_' && key_[1] == '_')) return;
    if (++values_ > options_.max_fields_per_entry) {
      too_many_ = true;
      bad_ = true;
      problem("entry has more than " + std::to_string(options_.max_fields_per_entry) + " fields; skipped");
    }
  }

  void value(std::string_view v) {
    count_value();
    if (too_many_) return;
    switch (kind_) {
      case KeyKind::kField:
        if (hasher_) {
          hasher_->add(key_, v);
          return;
        }
        if (v.size() > options_.max_field_size) {
          if (!truncation_reported_ && report_)
            report_(InputProblem{input_, line_, true,
                                 "value of " + key_ + " is longer than " + std::to_string(options_.max_field_size) +
                                     " bytes; truncated (reported once per input)",
                                 true});
          truncation_reported_ = true;
          v = v.substr(0, options_.max_field_size);
        }
        out_->add(static_cast<core::FieldId>(id_), v);
        return;
      case KeyKind::kCursor:
        if (!hasher_ && depth_ == 1) out_->cursor.assign(v);
        return;
      case KeyKind::kRealtime:
      case KeyKind::kMonotonic:
        if (hasher_) return;
        if (auto t = detail::parse_decimal_u64(v); t && depth_ == 1) {
          set_timestamp(*t);
        } else {
          problem("invalid " + key_ + " " + detail::quoted(v) +
                  (kind_ == KeyKind::kRealtime ? "; entry skipped" : "; using 0"));
          if (kind_ == KeyKind::kRealtime) bad_ = true;
        }
        return;
      case KeyKind::kNone:
      case KeyKind::kIgnored:
        return;
    }
  }

  detail::NameCache& names_;
  const SourceOptions& options_;
  const std::string& input_;
  const ProblemReporter& report_;
  bool& truncation_reported_;

  core::Event* out_ = nullptr;
  EntryHasher* hasher_ = nullptr;
  std::uint64_t line_ = 0;
  int depth_ = 0;
  int skip_ = 0;  // > 0 while inside a container that is being ignored
  bool seen_object_ = false;
  bool have_realtime_ = false;
  bool bad_ = false;
  KeyKind kind_ = KeyKind::kNone;
  ArrayMode mode_ = ArrayMode::kUnknown;
  bool drop_bytes_ = false;
  std::int64_t id_ = -1;
  std::size_t position_ = 0;  // index of the current key within the line, a hint for the name cache
  std::size_t values_ = 0;    // field values met in this line
  bool too_many_ = false;     // more than max_fields_per_entry: the line is skipped
  std::string key_;
  std::string bytes_;
  std::string error_;
  std::uint64_t nulls_ = 0;
};

}  // namespace

struct JsonReader::Impl {
  Impl(std::string n, std::unique_ptr<ByteInput> input, core::FieldSchema& s, const SourceOptions& o, ProblemReporter r,
       ReadSpan span)
      : name(std::move(n)),
        in(std::move(input)),
        names(s),
        options(o),
        report(std::move(r)),
        handler(names, options, name, report, truncation_reported),
        pos(span.begin),
        span_stop(span.stop) {}

  std::string name;
  detail::InputBuffer in;
  detail::NameCache names;
  SourceOptions options;
  ProblemReporter report;
  bool truncation_reported = false;
  LineHandler handler;
  EntryHasher hasher;
  std::uint64_t pos = 0;
  std::uint64_t span_stop = UINT64_MAX;  // no line starting at or after this is read (ReadSpan)
  std::uint64_t line_no = 1;  // number of the line starting at pos
  bool stopped = false;
  bool read_error_reported = false;
  std::uint64_t scanned_nulls = 0;  // null values the scanner skipped
  std::string scratch;              // the scanner's decoded values

  void problem(std::uint64_t line, std::string message) const {
    if (report) report(InputProblem{name, line, true, std::move(message)});
  }

  // Sets [ls, le) to the next line and advances past it. Returns false at end of input.
  bool next_line(std::uint64_t& ls, std::uint64_t& le, std::uint64_t& number) {
    for (;;) {
      if (pos >= span_stop) return false;
      ls = pos;
      std::uint64_t scan = pos;
      bool too_long = false;
      for (;;) {
        const std::uint64_t e = in.end();
        if (scan < e) {
          const auto* hit = static_cast<const char*>(std::memchr(in.at(scan), '\n', e - scan));
          if (hit != nullptr) {
            le = scan + static_cast<std::uint64_t>(hit - in.at(scan));
            break;
          }
          scan = e;
        }
        if (!too_long && e - ls > options.max_entry_size) {
          too_long = true;
          problem(line_no, "line is longer than " + std::to_string(options.max_entry_size) + " bytes; skipped");
        }
        // While skipping an overlong line, keep nothing of it.
        if (in.at_eof() || !in.fill(too_long ? e : ls, e + 1)) {
          le = in.end();
          break;
        }
      }
      number = line_no;
      const bool at_end = le >= in.end();
      if (at_end && ls == le) return false;  // nothing left
      pos = at_end ? le : le + 1;
      ++line_no;
      if (too_long) {
        if (at_end) return false;
        continue;
      }
      if (le - ls > options.max_entry_size) {  // found in one piece, still too long
        problem(number, "line is longer than " + std::to_string(options.max_entry_size) + " bytes; skipped");
        continue;
      }
      return true;
    }
  }

  bool next(core::Event& out) {
    std::uint64_t ls = 0;
    std::uint64_t le = 0;
    std::uint64_t number = 0;
    while (!stopped && next_line(ls, le, number)) {
      const std::string_view line(in.at(ls), static_cast<std::size_t>(le - ls));
      if (is_blank(line)) continue;
      if (options.json_scanner && detail::scan_json_line(line, out, names, options, scanned_nulls, scratch)) return true;
      out.clear();
      handler.begin(&out, nullptr, number);
      const bool ok = Json::sax_parse(line.begin(), line.end(), &handler);
      if (!ok) {
        problem(number, "invalid JSON: " + handler.error());
        continue;
      }
      if (handler.bad()) continue;
      if (!handler.have_realtime()) {
        problem(number, "entry has no __REALTIME_TIMESTAMP; skipped");
        continue;
      }
      if (out.cursor.empty()) {
        hasher.reset();
        handler.begin(nullptr, &hasher, number);
        Json::sax_parse(line.begin(), line.end(), &handler);
        out.cursor = hasher.cursor(out.boot_id(), out.monotonic_us, out.realtime_us);
      }
      return true;
    }
    if (in.error() && !read_error_reported) {
      read_error_reported = true;
      problem(line_no, "read error: " + in.error()->message());
    }
    out.clear();
    return false;
  }
};

JsonReader::JsonReader(std::string name, std::unique_ptr<ByteInput> input, core::FieldSchema& schema,
                       const SourceOptions& options, ProblemReporter report, ReadSpan span)
    : impl_(std::make_unique<Impl>(std::move(name), std::move(input), schema, options, std::move(report), span)) {}

JsonReader::~JsonReader() = default;

bool JsonReader::next(core::Event& out) {
  try {
    return impl_->next(out);
  } catch (const std::exception& e) {  // allocation failure: report, stop this input
    impl_->problem(impl_->line_no, std::string("reader stopped: ") + e.what());
    impl_->stopped = true;
    out.clear();
    return false;
  }
}

const std::string& JsonReader::name() const { return impl_->name; }

Progress JsonReader::progress() const { return {impl_->pos, impl_->in.total_size()}; }

std::uint64_t JsonReader::resume_at() const { return impl_->pos; }

std::uint64_t JsonReader::lines_read() const { return impl_->line_no - 1; }

bool JsonReader::failed() const { return impl_->stopped; }

std::uint64_t JsonReader::null_values() const { return impl_->handler.nulls() + impl_->scanned_nulls; }

std::size_t JsonReader::buffer_capacity() const { return impl_->in.capacity(); }

}  // namespace jcorr::sources
