// Event sources: the inputs jcorr reads (journal files and directories through
// sd-journal, Journal Export Format streams, JSON lines) behind one pull interface.
//
// A source fills a caller-owned core::Event with the fields its FieldSchema projects,
// plus timestamps and cursor, reading each entry once. Bad input never stops a source:
// each problem is reported through the ProblemReporter with the input's name and a
// byte offset or line, the bad entry is skipped, and reading goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/event.h"

namespace jcorr::sources {

// One problem found in an input: where, and what.
struct InputProblem {
  std::string input;         // file name, directory, or "-" for stdin
  std::uint64_t offset = 0;  // byte offset (export, journal) or 1-based line (JSON lines)
  bool is_line = false;      // true when offset is a line number
  std::string message;
  // Reported once per input however often it happens (a truncated value): a reader of
  // one span of an input (ReadSpan) may report it again, and its caller keeps the first.
  bool once_per_input = false;
};

using ProblemReporter = std::function<void(const InputProblem&)>;

// How far a source has read, for progress display.
struct Progress {
  std::uint64_t done = 0;   // bytes consumed (0 when unknown)
  std::uint64_t total = 0;  // total bytes (0 when unknown, e.g. stdin or sd-journal)
};

class Source {
 public:
  virtual ~Source() = default;

  // Clears `out` and fills it with the next entry. Returns false at end of input.
  // Never throws; malformed entries are reported and skipped.
  virtual bool next(core::Event& out) = 0;

  // The input's name as the user gave it.
  virtual const std::string& name() const = 0;

  virtual Progress progress() const { return {}; }
};

enum class Format { kAuto, kJournal, kExport, kJson };

// Options shared by every source.
struct SourceOptions {
  Format format = Format::kAuto;
  // Values longer than this are truncated (and reported once per input); the journal's
  // own data threshold is set to the same value.
  std::size_t max_field_size = 1u << 20;
  // An entry with more fields than this is reported and skipped.
  std::size_t max_fields_per_entry = 4096;
  // An entry (export) or line (JSON lines) larger than this many bytes is reported and
  // skipped; it also bounds what a stream reader buffers (one entry plus a read chunk).
  std::size_t max_entry_size = 256u << 20;
  // JSON lines: lines of the common shape are read by a one-pass scanner and only the
  // others by a general JSON parser. The entries and reports are the same either way;
  // off, every line goes through the general parser (to compare the two).
  bool json_scanner = true;
};

// A part of a mapped input, so that one input can be read on several threads. Reading
// starts at byte `begin`, which the caller expects to be the start of an entry (or of
// the blank lines before one; in JSON lines, of a line), and ends before the first entry
// (line) that starts at or after byte `stop`. Where reading ended is the span reader's
// resume_at(): equal to the next span's `begin` when that was an entry start, otherwise
// (a guessed export boundary inside a binary value) later, and then the next span must
// be read again from there. A reader of the span from 0 to the end of the input reads
// exactly what a reader without a span does.
struct ReadSpan {
  std::uint64_t begin = 0;
  std::uint64_t stop = UINT64_MAX;
};

// Opens one input: "-" (stdin), a file, or a directory (a journal directory read through
// sd-journal, which merges its system and user-UID files in time order). With kAuto the
// format is detected from the content (".journal" magic "LPKSHHRH", a leading '{' for
// JSON lines, otherwise export). Returns nullptr and reports a problem when the input
// cannot be opened. The schema must outlive the source.
std::unique_ptr<Source> open_source(const std::string& input, core::FieldSchema& schema,
                                    const SourceOptions& options, ProblemReporter report);

// The format of an input from its first bytes (all of a mapped input may be passed):
// the ".journal" magic, a leading '{' after white space for JSON lines, otherwise export.
// Never kAuto.
Format detect_format(std::string_view head);

// Merges several sources by event time (realtime µs; ties keep input order) and tags
// each event with the index of the input it came from.
class MergedSource final : public Source {
 public:
  explicit MergedSource(std::vector<std::unique_ptr<Source>> inputs);
  ~MergedSource() override;
  bool next(core::Event& out) override;
  const std::string& name() const override { return name_; }
  Progress progress() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

// Builds a cursor-like identity for an entry that came without __CURSOR, in the same
// "b=…;m=…;t=…;x=…" shape journald uses: x is an order-independent hash of every
// "FIELD=value" of the entry (all fields, not only the projected ones), so the same
// entry gets the same identity whatever the rules project.
class EntryHasher {
 public:
  void reset() { x_ = 0; }
  void add(std::string_view field, std::string_view value);
  std::string cursor(std::string_view boot_id, std::uint64_t monotonic_us, std::uint64_t realtime_us) const;

 private:
  std::uint64_t x_ = 0;
};

}  // namespace jcorr::sources
