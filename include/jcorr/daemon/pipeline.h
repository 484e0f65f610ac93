// One loaded rule set running over one followed journal: the rules, the correlator, the
// journal streams, and where each resumes.
//
// Streams. The local journal (or a namespace) is one stream: one sd_journal handle that
// watches itself. A journal directory is one stream per machine (a _MACHINE_ID match on
// its own handle) plus one handle that watches the directory and finds machines
// (sd_journal_query_unique), because one merged handle loses entries there: sd-journal
// never returns an entry that sorts before the position it has read to, so a host whose
// upload lags behind another's would have its entries skipped, and moving into a newly
// appeared file that interleaves several machines can skip some of them too. Entries of
// the streams are merged by time. When the watcher sees files added or removed, every
// stream's handle is opened again (so it sees the new files and lets deleted ones go)
// and put back after its last entry with journalctl's resume.
//
// Resuming (after a restart from a checkpoint, and after a reload from the last entries
// read) is a silent rebuild followed by journalctl's own resume, per stream:
//   1. seek to (resume entry's realtime - rewind), where rewind covers the longest state
//      any rule keeps (window, plus suppression, plus the windows of the rules feeding
//      it detections) and the allowed lateness;
//   2. feed every entry up to and including the resume entry (sd-journal order, see
//      compare_positions) to the correlator and drop what it emits: those detections
//      were delivered before;
//   3. before the first live entry, move the watermark to the one stored with the
//      resume point (silently: what that fires was delivered before, too);
//   4. seek_cursor(resume), next, test_cursor, and step once more only on a match; when
//      the resume entry is gone (vacuumed) the current entry is the first unseen one,
//      and the gap is logged;
//   5. from there on every detection is live and goes to the outputs.
// Because every rebuild replays the same entries, rules that did not change come out
// of a reload with the partial matches they had.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jcorr/core/correlator.h"
#include "jcorr/core/rule.h"
#include "jcorr/daemon/checkpoint.h"
#include "jcorr/daemon/config.h"
#include "jcorr/daemon/journal_follower.h"

namespace jcorr::daemon {

class Logger;

// Where every stream stands, and the watermark then.
struct PipelinePoint {
  std::vector<StreamPosition> streams;
  core::Micros watermark = INT64_MIN;
  bool operator==(const PipelinePoint&) const = default;
};

// The longest time before an entry that state still alive at that entry can reach back:
// per rule its window plus its suppression time plus what its detection feeds need,
// the largest over the set, plus lateness.
core::Micros rewind_for(const core::RuleSet& rules, core::Micros lateness);

class Pipeline {
 public:
  struct Counters {
    std::uint64_t entries = 0;         // read live
    std::uint64_t matched = 0;         // live entries that matched an event definition
    std::uint64_t replayed = 0;        // read silently to rebuild state
    std::uint64_t own_skipped = 0;     // the daemon's own log lines, skipped
    std::uint64_t read_errors = 0;     // sd_journal_next errors
    std::uint64_t detections = 0;      // live detections emitted
    std::uint64_t gaps = 0;            // resume entries that were gone
    std::uint64_t reopens = 0;         // stream handles opened again after file changes
    std::uint64_t values_truncated = 0;  // field values cut to max_field_size (caps.field_bytes)
    std::uint64_t entries_skipped = 0;   // entries over max_fields_per_entry, or unreadable
  };

  enum class DrainStatus { kMore, kCaughtUp, kError };

  // deliver receives every live detection.
  using Deliver = std::function<void(const core::Detection&)>;

  // Takes the rules, checks journal access and opens the journal of config.follow.
  static std::expected<std::unique_ptr<Pipeline>, std::string> open(boost::asio::io_context& io,
                                                                    const DaemonConfig& config,
                                                                    std::unique_ptr<core::RuleSet> rules,
                                                                    std::vector<OwnPid> own_pids, const Logger& log);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Positions every stream: after its entry in resume (rebuilding state first, see
  // above); a stream resume does not name starts at its head when there is a resume
  // point (a machine that appeared since) and per `start` otherwise (the tail as if its
  // last entry were a resume point).
  std::expected<void, std::string> position(const std::optional<PipelinePoint>& resume, DaemonConfig::StartAt start);

  // Starts watching the journal; on_change runs after each wake-up.
  std::expected<void, std::string> watch(std::function<void()> on_change);
  void stop_watching();

  // Lets sd-journal see rotations and deletions during a long drain (process() every
  // batch, as journalctl does).
  void process_journal();

  // Reads up to max_entries entries. kMore: call again; kCaughtUp: nothing more now;
  // kError: sd_journal_next failed (logged; try again later, never from the head).
  DrainStatus drain(std::size_t max_entries, const Deliver& deliver);

  // Once a second: moves the watermark to now - lateness - delay (only while caught up
  // and live), so windows expire and absences fire without new entries; every ten
  // calls, looks for machines that appeared inside existing files (then caught_up()
  // is false until the next drain).
  void advance_wall_clock(core::Micros now_us, const Deliver& deliver);

  // Where every stream stands (its resume point while it rebuilds, then its last entry
  // processed), with the watermark now. A stream that has read nothing from its head
  // has no place, and a restart reads it from the head again.
  PipelinePoint point() const;

  // True once every stream is past its resume point.
  bool live() const;
  bool caught_up() const { return caught_up_; }
  const core::RuleSet& rules() const { return *rules_; }
  const core::Correlator& correlator() const { return *correlator_; }
  Counters counters() const;
  const JournalFollower& follower() const { return *follower_; }
  std::size_t streams() const { return streams_.size(); }
  core::Micros rewind() const { return rewind_; }
  // Realtime of the last entry read (live or not), 0 before the first.
  std::uint64_t last_entry_realtime() const { return last_realtime_; }

 private:
  struct Stream;
  Pipeline(const DaemonConfig& config, std::unique_ptr<core::RuleSet> rules, std::vector<OwnPid> own_pids,
           const Logger& log);
  std::expected<void, std::string> add_stream(const std::string& machine_id, const StreamPosition* resume,
                                              bool at_head);
  std::expected<void, std::string> place(Stream& s, const StreamPosition* resume, bool at_head);
  void discover();
  void reopen_streams();
  int fill(Stream& s);
  int finish_rebuild(Stream& s);
  bool own_entry(const core::Event& e) const;
  void note_processed(Stream& s, const core::Event& e);
  void process_head(Stream& s, const Deliver& deliver);
  void emit(const Deliver& deliver);

  const DaemonConfig config_;
  std::unique_ptr<core::RuleSet> rules_;
  std::unique_ptr<core::Correlator> correlator_;
  const Logger& log_;
  core::FieldSchema watch_schema_;             // the directory watcher projects nothing
  std::unique_ptr<JournalFollower> follower_;  // watches (and, for one stream, is it)
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<OwnPid> own_pids_;
  core::FieldId pid_field_ = 0;
  core::Micros rewind_ = 0;
  core::Micros resume_watermark_ = INT64_MIN;
  bool watermark_restored_ = true;
  bool caught_up_ = false;
  bool had_resume_ = false;
  std::uint64_t ticks_ = 0;
  std::uint64_t last_realtime_ = 0;
  std::vector<core::Detection> out_;
  Counters counters_;
};

}  // namespace jcorr::daemon
