#include "jcorr/daemon/pipeline.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "jcorr/core/detection.h"
#include "jcorr/core/rule_loader.h"
#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace {

std::string errno_text(int negative) { return std::strerror(negative < 0 ? -negative : negative); }

std::string time_text(std::uint64_t realtime_us) {
  return core::format_time_utc(static_cast<std::int64_t>(realtime_us));
}

}  // namespace

core::Micros rewind_for(const core::RuleSet& rules, core::Micros lateness) {
  std::unordered_map<const core::Rule*, core::Micros> memo;
  // Detection feeds form no cycles (the loader refuses them), so the recursion ends.
  std::function<core::Micros(const core::Rule&)> reach = [&](const core::Rule& r) -> core::Micros {
    if (auto it = memo.find(&r); it != memo.end()) return it->second;
    core::Micros own = r.max_window + (r.suppress ? r.suppress->duration : 0);
    core::Micros feeds = 0;
    for (const auto& id : r.consumes_rules)
      if (const core::Rule* producer = rules.find(id)) feeds = std::max(feeds, reach(*producer));
    memo[&r] = own + feeds;
    return own + feeds;
  };
  core::Micros longest = 0;
  for (const auto& r : rules.rules) longest = std::max(longest, reach(*r));
  return longest + lateness;
}

Pipeline::Pipeline(const DaemonConfig& config, std::unique_ptr<core::RuleSet> rules, std::vector<OwnPid> own_pids,
                   const Logger& log)
    : config_(config), rules_(std::move(rules)), log_(log), own_pids_(std::move(own_pids)) {
  // _PID is needed to recognise our own log lines; projecting one more field changes
  // nothing for the rules.
  pid_field_ = rules_->schema.add("_PID");
  correlator_ = std::make_unique<core::Correlator>(*rules_, config_.correlator);
  rewind_ = rewind_for(*rules_, config_.lateness);
}

Pipeline::~Pipeline() {
  if (follower_) follower_->stop();
}

std::expected<std::unique_ptr<Pipeline>, std::string> Pipeline::open(boost::asio::io_context& io,
                                                                     const DaemonConfig& config,
                                                                     std::unique_ptr<core::RuleSet> rules,
                                                                     std::vector<OwnPid> own_pids, const Logger& log) {
  std::unique_ptr<Pipeline> p(new Pipeline(config, std::move(rules), std::move(own_pids), log));
  auto follower =
      JournalFollower::open(io, config.follow, p->rules_->schema, config.max_field_size, config.journal_access, log);
  if (!follower) return std::unexpected(follower.error());
  p->follower_ = std::move(*follower);
  return p;
}

std::expected<void, std::string> Pipeline::watch(std::function<void()> on_change) {
  return follower_->watch(std::move(on_change));
}

void Pipeline::stop_watching() { follower_->stop(); }

bool Pipeline::own_entry(const core::Event& e) const {
  if (own_pids_.empty()) return false;
  const auto pid = e.get(pid_field_);
  if (!pid) return false;
  std::uint32_t n = 0;
  const auto [p, ec] = std::from_chars(pid->data(), pid->data() + pid->size(), n);
  if (ec != std::errc() || p != pid->data() + pid->size()) return false;
  const std::string_view boot = e.boot_id();
  for (const auto& o : own_pids_)
    if (o.pid == n && boot == o.boot_id) return true;
  return false;
}

void Pipeline::note_processed(const core::Event& e) {
  last_realtime_ = e.realtime_us;
  auto pos = parse_cursor(e.cursor);
  if (!pos) return;  // sd-journal always gives a cursor; a malformed one cannot be resumed from anyway
  if (!last_) last_.emplace();
  last_->cursor = e.cursor;
  last_->position = *pos;
}

std::optional<ResumePoint> Pipeline::last_processed() const {
  if (!last_) return resume_;  // nothing read yet: where we were asked to resume
  ResumePoint r = *last_;
  r.watermark = correlator_->watermark();
  return r;
}

std::expected<void, std::string> Pipeline::position(const std::optional<ResumePoint>& resume,
                                                    DaemonConfig::StartAt start) {
  auto& reader = follower_->reader();
  std::optional<ResumePoint> from = resume;
  if (!from && start == DaemonConfig::StartAt::kTail) {
    // The last entry now stands in for a checkpoint: state is rebuilt from the window
    // before it, and everything after it is live.
    if (auto r = reader.seek_tail(); !r) return std::unexpected("seek_tail: " + errno_text(r.error()));
    auto prev = reader.previous();
    if (!prev) return std::unexpected("sd_journal_previous: " + errno_text(prev.error()));
    if (*prev && reader.read_current(event_)) {
      if (auto pos = parse_cursor(event_.cursor)) from = ResumePoint{event_.cursor, *pos, INT64_MIN};
    }
    if (!from) log_.info("the journal is empty; following from its start");
  }
  if (!from) {
    if (auto r = reader.seek_head(); !r) return std::unexpected("seek_head: " + errno_text(r.error()));
    live_ = true;
    return {};
  }
  const std::uint64_t target = from->position.realtime_us > static_cast<std::uint64_t>(rewind_)
                                   ? from->position.realtime_us - static_cast<std::uint64_t>(rewind_)
                                   : 0;
  if (auto r = reader.seek_realtime(target); !r) return std::unexpected("seek_realtime: " + errno_text(r.error()));
  resume_ = from;
  resume_seen_ = false;
  live_ = false;
  log_.info("rebuilding state from " + time_text(target) + " (rewind " + core::format_duration(rewind_) +
            ") up to " + time_text(from->position.realtime_us) + ", silently");
  return {};
}

void Pipeline::emit(const Deliver& deliver) {
  for (const auto& d : out_) {
    ++counters_.detections;
    deliver(d);
  }
  out_.clear();
}

void Pipeline::process_live(const core::Event& e, const Deliver& deliver) {
  const auto matched_before = correlator_->stats().matched;
  correlator_->process(e, out_);
  ++counters_.entries;
  counters_.matched += correlator_->stats().matched - matched_before;
  note_processed(e);
  emit(deliver);
}

// Steps 3-5 of the resume (see the header). Returns false when reading failed.
bool Pipeline::finish_rebuild(const Deliver& deliver) {
  auto& reader = follower_->reader();
  const ResumePoint from = *resume_;
  correlator_->advance_to(from.watermark, out_);
  out_.clear();  // delivered before the checkpoint was written
  if (auto r = reader.seek_cursor(from.cursor); !r) {
    log_.error("seek_cursor: " + errno_text(r.error()));
    return false;
  }
  resume_.reset();
  live_ = true;
  const int r = reader.follow_next(event_);
  if (r < 0) {
    ++counters_.read_errors;
    log_.error("reading the journal after the resume point failed: " + errno_text(r));
    // The position is after the cursor's location either way; the next drain goes on.
    return false;
  }
  if (r > 0) {
    auto match = reader.test_cursor(from.cursor);
    if (match && *match) {
      note_processed(event_);  // the resume entry itself: seen before
      return true;
    }
  }
  if (r > 0 || !resume_seen_) {
    ++counters_.gaps;
    std::string msg = "the resume entry (" + time_text(from.position.realtime_us) +
                      ") is no longer in the journal (vacuumed or rotated away)";
    if (r > 0) {
      msg += "; resuming at the next entry in time, " + time_text(event_.realtime_us);
      if (auto pos = parse_cursor(event_.cursor); pos && pos->seqnum_id == from.position.seqnum_id &&
                                                  pos->seqnum > from.position.seqnum + 1)
        msg += "; " + std::to_string(pos->seqnum - from.position.seqnum - 1) + " entries in between were never read";
    } else {
      msg += "; no entry after it yet";
    }
    log_.warning(msg);
  }
  if (r > 0) {
    if (own_entry(event_)) {
      ++counters_.own_skipped;
      note_processed(event_);
    } else {
      process_live(event_, deliver);
    }
  }
  return true;
}

Pipeline::DrainStatus Pipeline::drain(std::size_t max_entries, const Deliver& deliver) {
  auto& reader = follower_->reader();
  caught_up_ = false;
  for (std::size_t n = 0; n < max_entries; ++n) {
    const int r = reader.follow_next(event_);
    if (r < 0) {
      ++counters_.read_errors;
      log_.warning("reading the journal failed: " + errno_text(r) + "; retrying shortly from the same position");
      return DrainStatus::kError;
    }
    if (r == 0) {
      if (!live_) {
        if (!finish_rebuild(deliver)) return DrainStatus::kError;
        continue;
      }
      caught_up_ = true;
      return DrainStatus::kCaughtUp;
    }
    if (own_entry(event_)) {
      ++counters_.own_skipped;
      note_processed(event_);
      continue;
    }
    if (live_) {
      process_live(event_, deliver);
      continue;
    }
    // Rebuilding: everything up to and including the resume entry is replayed silently.
    bool at_resume = false;
    if (auto t = reader.test_cursor(resume_->cursor); t && *t) at_resume = true;
    const auto pos = parse_cursor(event_.cursor);
    if (at_resume || (pos && compare_positions(*pos, resume_->position) <= 0)) {
      correlator_->process(event_, out_);
      out_.clear();
      ++counters_.replayed;
      resume_seen_ = resume_seen_ || at_resume;
      note_processed(event_);
      continue;
    }
    // The first entry after the resume point: it is read again by the cursor resume.
    if (!finish_rebuild(deliver)) return DrainStatus::kError;
  }
  return DrainStatus::kMore;
}

void Pipeline::advance_wall_clock(core::Micros now_us, const Deliver& deliver) {
  if (!config_.wall_clock || !live_ || !caught_up_) return;
  correlator_->advance_to(now_us - config_.lateness - config_.wall_clock_delay, out_);
  emit(deliver);
}

}  // namespace jcorr::daemon
