// One loaded rule set running over one followed journal: the rules, the correlator,
// the journal follower, and where reading resumes.
//
// Resuming (after a restart from a checkpoint, and after a reload from the last entry
// read) is a silent rebuild followed by journalctl's own resume:
//   1. seek to (resume entry's realtime - rewind), where rewind covers the longest state
//      any rule keeps (window, plus suppression, plus the windows of the rules feeding
//      it detections) and the allowed lateness;
//   2. feed every entry up to and including the resume entry (sd-journal order, see
//      compare_positions) to the correlator and drop what it emits: those detections
//      were delivered before;
//   3. move the watermark to the one stored with the resume point;
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

// An entry the pipeline has fully processed, with the watermark after it.
struct ResumePoint {
  std::string cursor;
  EntryPosition position;
  core::Micros watermark = INT64_MIN;
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
  };

  enum class DrainStatus { kMore, kCaughtUp, kError };

  // deliver receives every live detection; the pipeline keeps going whatever it returns.
  using Deliver = std::function<void(const core::Detection&)>;

  // Takes the rules and opens the journal of config.follow (see JournalFollower::open).
  static std::expected<std::unique_ptr<Pipeline>, std::string> open(boost::asio::io_context& io,
                                                                    const DaemonConfig& config,
                                                                    std::unique_ptr<core::RuleSet> rules,
                                                                    std::vector<OwnPid> own_pids, const Logger& log);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Positions reading: after resume (rebuilding state first, see above), or, without
  // one, at the head or at the tail (the tail as if the last entry were a resume point).
  std::expected<void, std::string> position(const std::optional<ResumePoint>& resume, DaemonConfig::StartAt start);

  // Starts watching the journal; on_change runs after each wake-up.
  std::expected<void, std::string> watch(std::function<void()> on_change);
  void stop_watching();

  // Lets sd-journal see rotations and deletions during a long drain (process() every
  // batch, as journalctl does).
  void process_journal() { follower_->process(); }

  // Reads up to max_entries entries. kMore: call again; kCaughtUp: nothing more now;
  // kError: sd_journal_next failed (logged; try again later, never from the head).
  DrainStatus drain(std::size_t max_entries, const Deliver& deliver);

  // Moves the watermark to now - lateness - delay (only while caught up and live), so
  // windows expire and absences fire without new entries.
  void advance_wall_clock(core::Micros now_us, const Deliver& deliver);

  // The last entry processed (silently or live), with the watermark now.
  std::optional<ResumePoint> last_processed() const;

  bool live() const { return live_; }
  bool caught_up() const { return caught_up_; }
  const core::RuleSet& rules() const { return *rules_; }
  const core::Correlator& correlator() const { return *correlator_; }
  const Counters& counters() const { return counters_; }
  const JournalFollower& follower() const { return *follower_; }
  core::Micros rewind() const { return rewind_; }
  // Realtime of the last entry read (live or not), 0 before the first.
  std::uint64_t last_entry_realtime() const { return last_realtime_; }

 private:
  Pipeline(const DaemonConfig& config, std::unique_ptr<core::RuleSet> rules, std::vector<OwnPid> own_pids,
           const Logger& log);
  bool own_entry(const core::Event& e) const;
  void note_processed(const core::Event& e);
  bool finish_rebuild(const Deliver& deliver);
  void process_live(const core::Event& e, const Deliver& deliver);
  void emit(const Deliver& deliver);

  const DaemonConfig config_;
  std::unique_ptr<core::RuleSet> rules_;
  std::unique_ptr<core::Correlator> correlator_;
  std::unique_ptr<JournalFollower> follower_;
  const Logger& log_;
  std::vector<OwnPid> own_pids_;
  core::FieldId pid_field_ = 0;
  core::Micros rewind_ = 0;

  bool live_ = false;
  bool caught_up_ = false;
  std::optional<ResumePoint> resume_;  // while rebuilding
  bool resume_seen_ = false;
  std::optional<ResumePoint> last_;
  std::uint64_t last_realtime_ = 0;
  core::Event event_;
  std::vector<core::Detection> out_;
  Counters counters_;
};

}  // namespace jcorr::daemon
