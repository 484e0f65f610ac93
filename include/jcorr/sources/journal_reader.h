// Reads journal files through libsystemd's sd-journal: one or more `.journal` files,
// a journal directory (its system and user-UID files merged in time order by
// sd-journal itself), or the local machine's journal (optionally a namespace).
//
// This is the only part of jcorr that sees sd-journal; the handle lives behind a pimpl
// so the daemon can reuse the reader (matches now, following later) without including
// <systemd/sd-journal.h>. One reader must be created, used and destroyed on one thread.
//
// Each entry is enumerated once (sd_journal_enumerate_available_data, which skips
// corrupt or unavailable data objects), its items split at the first '=' and resolved
// against the schema. The data threshold is set so that values up to max_field_size are
// returned whole; longer values are truncated to max_field_size (reported once).
// An error from sd_journal_next (e.g. -EBADMSG while a file is being written) is
// reported and reading continues with the next entry; after kMaxErrorStreak errors in a
// row without an entry in between the input is given up, with a report. sd-journal
// silently drops a file it cannot iterate further, so when the input first ends the
// reader compares the files' realtime cutoff with the one at open and reports a
// corrupt, partly read journal when a file has gone.
//
// Following (the daemon) uses the second half of the interface: the change descriptor,
// process() after every wake-up, the timeout, seeks and cursor tests, and
// follow_next(), which never gives an input up and leaves error handling to the caller.
// Errors there come back as negative errno values, as sd-journal returns them.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/sources/source.h"

namespace jcorr::sources {

class JournalReader final : public Source {
 public:
  // Consecutive sd_journal_next errors after which the input is abandoned.
  static constexpr unsigned kMaxErrorStreak = 64;

  // Opens the given journal files (sd_journal_open_files). Returns nullptr and reports
  // a problem when sd-journal cannot open them. `name` labels problems and progress.
  static std::unique_ptr<JournalReader> open_files(const std::vector<std::string>& paths, std::string name,
                                                   core::FieldSchema& schema, const SourceOptions& options,
                                                   ProblemReporter report);

  // Opens every journal file in `directory` (sd_journal_open_directory).
  static std::unique_ptr<JournalReader> open_directory(const std::string& directory, core::FieldSchema& schema,
                                                       const SourceOptions& options, ProblemReporter report);

  // Opens a journal file given as an open descriptor (e.g. stdin redirected from a
  // .journal file; sd_journal_open_files_fd). The descriptor must stay open.
  static std::unique_ptr<JournalReader> open_fd(int fd, std::string name, core::FieldSchema& schema,
                                                const SourceOptions& options, ProblemReporter report);

  // Opens this machine's journal (SD_JOURNAL_LOCAL_ONLY: system and user files, not
  // other machines' or remote files), or the journald namespace `name_space` when not
  // empty.
  static std::unique_ptr<JournalReader> open_local(std::string_view name_space, core::FieldSchema& schema,
                                                   const SourceOptions& options, ProblemReporter report);

  ~JournalReader() override;
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  bool next(core::Event& out) override;
  const std::string& name() const override;
  Progress progress() const override;

  // What the limits of SourceOptions (and unreadable entries) cost so far. A problem is
  // reported once per input for truncation; these count every case.
  struct Counts {
    std::uint64_t values_truncated = 0;  // values cut to max_field_size
    std::uint64_t entries_skipped = 0;   // entries over max_fields_per_entry, or unreadable
  };
  const Counts& counts() const;

  // Pushes an exact "FIELD=value" match down to sd-journal (sd_journal_add_match):
  // matches on one field are ORed, on different fields ANDed. Returns false (and
  // reports) when sd-journal rejects it. Only entries matching are returned afterwards.
  bool add_match(std::string_view field_equals_value);

  // ORs the match groups before and after this call (sd_journal_add_disjunction).
  bool add_disjunction();

  // ANDs the disjunctions before and after this call (sd_journal_add_conjunction).
  bool add_conjunction();

  // Removes every match (sd_journal_flush_matches).
  void flush_matches();

  // ---- Following ----

  // What sd_journal_process() saw: nothing, entries appended, or files added or removed
  // (rotation, vacuum, a new host's file); the read position survives all three.
  enum class Change { kNop, kAppend, kInvalidate };

  // The descriptor (inotify) that becomes readable when the journal changes
  // (sd_journal_get_fd). The reader owns it: an event loop must watch a dup() of it.
  // Returns -errno on failure.
  int get_fd();

  // Acknowledges a wake-up (sd_journal_process). Must follow every wake-up of the
  // descriptor, or it stays readable; also lets go of rotated and deleted files.
  std::expected<Change, int> process();

  // The CLOCK_MONOTONIC time in µs by which process() must be called even without a
  // wake-up (sd_journal_get_timeout), or nullopt when waiting on the descriptor is enough.
  std::expected<std::optional<std::uint64_t>, int> get_timeout();

  // Positions before the first entry, after the last, before the first entry at or
  // after realtime_us, or at the entry of a cursor (sd_journal_seek_*). A seek makes no
  // entry current: the next follow_next() (or previous()) does.
  std::expected<void, int> seek_head();
  std::expected<void, int> seek_tail();
  std::expected<void, int> seek_realtime(std::uint64_t realtime_us);
  std::expected<void, int> seek_cursor(const std::string& cursor);

  // True when the current entry is the one the cursor names (sd_journal_test_cursor).
  std::expected<bool, int> test_cursor(const std::string& cursor);

  // Moves to the previous entry (sd_journal_previous): true when there is one.
  std::expected<bool, int> previous();

  // Moves to the next entry and reads it into out: 1 when an entry was read, 0 when
  // there is none now, -errno when sd_journal_next failed (nothing is reported; the
  // caller decides). An entry that cannot be read is reported and skipped.
  int follow_next(core::Event& out);

  // Reads the current entry (after next or previous) into out; false, after reporting,
  // when it cannot be read.
  bool read_current(core::Event& out);

  // The distinct values of field across the open files (sd_journal_query_unique), e.g.
  // every _MACHINE_ID in a journal-remote directory. Matches do not apply.
  std::expected<std::vector<std::string>, int> unique_values(const std::string& field);

 private:
  struct Impl;
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::sources
