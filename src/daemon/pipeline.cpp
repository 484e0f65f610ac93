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

constexpr int kDiscoverEveryTicks = 10;  // a new machine inside an existing file shows up this late at most

}  // namespace

core::Micros rewind_for(const core::RuleSet& rules, core::Micros lateness) {
  std::unordered_map<const core::Rule*, core::Micros> memo;
  // Detection feeds form no cycles (the loader refuses them), so the recursion ends.
  std::function<core::Micros(const core::Rule&)> reach = [&](const core::Rule& r) -> core::Micros {
    if (auto it = memo.find(&r); it != memo.end()) return it->second;
    // Rule::max_window is the larger of the window and the suppression time; state can
    // reach back by their sum (a suppression starts when a window ends), so the window
    // is taken apart again here as the loader computes it.
    core::Micros window = r.correlate.within.value_or(0);
    core::Micros gaps = 0;
    for (const auto& st : r.correlate.steps) gaps += st.within.value_or(0);
    window = std::max(window, gaps);
    if (!r.suppress) window = std::max(window, r.max_window);
    const core::Micros own = window + (r.suppress ? r.suppress->duration : 0);
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

struct Pipeline::Stream {
  std::string machine_id;                         // empty: the local journal, no match
  std::unique_ptr<sources::JournalReader> owned;  // a directory stream's own handle
  sources::JournalReader* reader = nullptr;
  std::optional<StreamPosition> resume;  // set while rebuilding: silent up to and including it
  bool resume_seen = false;
  std::optional<StreamPosition> last;    // the last entry processed
  core::Event head;
  enum class Head { kNone, kRaw, kSilent, kLive };
  Head head_kind = Head::kNone;
  bool empty = false;  // had nothing in this drain
};

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
  streams_.clear();  // stream handles before the watcher's
}

std::expected<std::unique_ptr<Pipeline>, std::string> Pipeline::open(boost::asio::io_context& io,
                                                                     const DaemonConfig& config,
                                                                     std::unique_ptr<core::RuleSet> rules,
                                                                     std::vector<OwnPid> own_pids, const Logger& log) {
  if (auto ok = check_journal_access(config.follow, config.journal_access, config.max_field_size, log); !ok)
    return std::unexpected(ok.error());
  std::unique_ptr<Pipeline> p(new Pipeline(config, std::move(rules), std::move(own_pids), log));
  const bool one_stream = config.follow.kind != FollowSpec::Kind::kDirectory;
  auto follower = JournalFollower::open(io, config.follow, one_stream ? p->rules_->schema : p->watch_schema_,
                                        config.max_field_size, log);
  if (!follower) return std::unexpected(follower.error());
  p->follower_ = std::move(*follower);
  return p;
}

std::expected<void, std::string> Pipeline::watch(std::function<void()> on_change) {
  return follower_->watch(std::move(on_change));
}

void Pipeline::stop_watching() { follower_->stop(); }

void Pipeline::process_journal() { follower_->process(); }

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

void Pipeline::note_processed(Stream& s, const core::Event& e) {
  last_realtime_ = e.realtime_us;
  auto pos = parse_cursor(e.cursor);
  if (!pos) return;  // sd-journal always gives a cursor; a malformed one cannot be resumed from anyway
  s.last = StreamPosition{s.machine_id, e.cursor, *pos};
}

PipelinePoint Pipeline::point() const {
  PipelinePoint p;
  for (const auto& s : streams_) {
    if (s->resume) p.streams.push_back(*s->resume);
    else if (s->last) p.streams.push_back(*s->last);
  }
  p.watermark = watermark_restored_ ? correlator_->watermark() : std::max(resume_watermark_, correlator_->watermark());
  return p;
}

bool Pipeline::live() const {
  for (const auto& s : streams_)
    if (s->resume) return false;
  return true;
}

std::expected<void, std::string> Pipeline::place(Stream& s, const StreamPosition* resume, bool at_head) {
  auto& reader = *s.reader;
  std::optional<StreamPosition> from;
  if (resume) from = *resume;
  if (!from && !at_head) {
    // The last entry stands in for a resume point: state is rebuilt from the window
    // before it, and everything after it is live.
    if (auto r = reader.seek_tail(); !r) return std::unexpected("seek_tail: " + errno_text(r.error()));
    auto prev = reader.previous();
    if (!prev) return std::unexpected("sd_journal_previous: " + errno_text(prev.error()));
    if (*prev && reader.read_current(s.head)) {
      if (auto pos = parse_cursor(s.head.cursor)) from = StreamPosition{s.machine_id, s.head.cursor, *pos};
    }
    s.head.clear();
  }
  if (!from) {
    if (auto r = reader.seek_head(); !r) return std::unexpected("seek_head: " + errno_text(r.error()));
    return {};
  }
  const std::uint64_t target = from->position.realtime_us > static_cast<std::uint64_t>(rewind_)
                                   ? from->position.realtime_us - static_cast<std::uint64_t>(rewind_)
                                   : 0;
  if (auto r = reader.seek_realtime(target); !r) return std::unexpected("seek_realtime: " + errno_text(r.error()));
  s.resume = from;
  s.resume_seen = false;
  return {};
}

std::expected<void, std::string> Pipeline::add_stream(const std::string& machine_id, const StreamPosition* resume,
                                                      bool at_head) {
  auto s = std::make_unique<Stream>();
  s->machine_id = machine_id;
  if (machine_id.empty()) {
    s->reader = &follower_->reader();
  } else {
    auto r = open_journal_reader(config_.follow, rules_->schema, config_.max_field_size, machine_id, log_);
    if (!r) return std::unexpected(r.error());
    s->owned = std::move(*r);
    s->reader = s->owned.get();
  }
  if (auto r = place(*s, resume, at_head); !r) return r;
  streams_.push_back(std::move(s));
  return {};
}

std::expected<void, std::string> Pipeline::position(const std::optional<PipelinePoint>& resume,
                                                    DaemonConfig::StartAt start) {
  had_resume_ = resume.has_value();
  resume_watermark_ = resume ? resume->watermark : INT64_MIN;
  watermark_restored_ = resume_watermark_ == INT64_MIN;
  const bool at_head = had_resume_ || start == DaemonConfig::StartAt::kHead;
  auto find = [&](const std::string& m) -> const StreamPosition* {
    if (!resume) return nullptr;
    for (const auto& sp : resume->streams)
      if (sp.machine_id == m) return &sp;
    return nullptr;
  };
  if (config_.follow.kind != FollowSpec::Kind::kDirectory) {
    if (auto r = add_stream("", find(""), at_head); !r) return r;
  } else {
    auto machines = follower_->reader().unique_values("_MACHINE_ID");
    if (!machines) return std::unexpected("listing the machines in the directory: " + errno_text(machines.error()));
    std::sort(machines->begin(), machines->end());
    for (const auto& m : *machines)
      if (auto r = add_stream(m, find(m), at_head); !r) return r;
    if (resume)
      for (const auto& sp : resume->streams)
        if (!std::binary_search(machines->begin(), machines->end(), sp.machine_id))
          log_.warning("machine " + sp.machine_id + " of the checkpoint has no entries left in the directory");
    log_.info("following " + std::to_string(streams_.size()) + " machine(s) in " + config_.follow.directory);
  }
  std::size_t rebuilding = 0;
  std::uint64_t earliest = UINT64_MAX;
  for (const auto& s : streams_)
    if (s->resume) {
      ++rebuilding;
      earliest = std::min(earliest, s->resume->position.realtime_us);
    }
  if (rebuilding > 0)
    log_.info("rebuilding state silently: replaying " + core::format_duration(rewind_) + " before the resume point" +
              (rebuilding > 1 ? "s of " + std::to_string(rebuilding) + " streams (earliest " : " (") +
              time_text(earliest) + ")");
  return {};
}

void Pipeline::discover() {
  if (config_.follow.kind != FollowSpec::Kind::kDirectory) return;
  auto machines = follower_->reader().unique_values("_MACHINE_ID");
  if (!machines) {
    log_.warning("listing the machines in the directory: " + errno_text(machines.error()));
    return;
  }
  for (const auto& m : *machines) {
    const bool known =
        std::any_of(streams_.begin(), streams_.end(), [&](const auto& s) { return s->machine_id == m; });
    if (known) continue;
    // Everything of a machine that appeared while we run is new: from its first entry.
    if (auto r = add_stream(m, nullptr, true); !r) {
      log_.error("following machine " + m + ": " + r.error());
    } else {
      log_.info("a new machine appeared: " + m);
      caught_up_ = false;
    }
  }
}

// Files were added or removed: a stream handle that was opened before sees neither new
// files nor lets deleted ones go, so each is opened again and put after its last entry.
void Pipeline::reopen_streams() {
  for (auto& sp : streams_) {
    Stream& s = *sp;
    if (!s.owned) continue;
    auto r = open_journal_reader(config_.follow, rules_->schema, config_.max_field_size, s.machine_id, log_);
    if (!r) {
      log_.error("opening the journal again for machine " + s.machine_id + ": " + r.error());
      continue;
    }
    ++counters_.reopens;
    counters_.values_truncated += s.reader->counts().values_truncated;
    counters_.entries_skipped += s.reader->counts().entries_skipped;
    s.owned = std::move(*r);
    s.reader = s.owned.get();
    s.empty = false;
    s.head_kind = Stream::Head::kNone;  // read again below
    s.head.clear();
    if (s.last) {
      // journalctl's resume: seek_cursor, next, test_cursor; the entry is unseen unless it
      // is the cursor's own.
      if (auto k = s.reader->seek_cursor(s.last->cursor); !k) {
        log_.error("seek_cursor: " + errno_text(k.error()));
        continue;
      }
      const int n = s.reader->follow_next(s.head);
      if (n > 0) {
        auto match = s.reader->test_cursor(s.last->cursor);
        if (!(match && *match)) s.head_kind = Stream::Head::kRaw;
      } else if (n < 0) {
        ++counters_.read_errors;
      }
    } else if (s.resume) {
      const StreamPosition from = *s.resume;
      s.resume.reset();
      (void)place(s, &from, false);
    } else {
      (void)s.reader->seek_head();
    }
  }
}

// Steps 4-5 of the resume (see the header). Returns <0 when reading failed.
int Pipeline::finish_rebuild(Stream& s) {
  auto& reader = *s.reader;
  const StreamPosition from = *s.resume;
  if (auto r = reader.seek_cursor(from.cursor); !r) {
    log_.error("seek_cursor: " + errno_text(r.error()));
    return r.error();
  }
  s.resume.reset();
  s.head_kind = Stream::Head::kNone;
  const int r = reader.follow_next(s.head);
  if (r < 0) {
    ++counters_.read_errors;
    log_.error("reading the journal after the resume point failed: " + errno_text(r));
    return r;
  }
  if (r > 0) {
    auto match = reader.test_cursor(from.cursor);
    if (match && *match) {
      note_processed(s, s.head);  // the resume entry itself: seen before
      s.head.clear();
      return 0;
    }
  }
  if (r > 0 || !s.resume_seen) {
    ++counters_.gaps;
    std::string msg = "the resume entry (" + time_text(from.position.realtime_us) +
                      (s.machine_id.empty() ? std::string() : ", machine " + s.machine_id) +
                      ") is no longer in the journal (vacuumed or rotated away)";
    if (r > 0) {
      msg += "; resuming at the next entry in time, " + time_text(s.head.realtime_us);
      if (auto pos = parse_cursor(s.head.cursor);
          pos && pos->seqnum_id == from.position.seqnum_id && pos->seqnum > from.position.seqnum + 1)
        msg += "; " + std::to_string(pos->seqnum - from.position.seqnum - 1) + " entries in between were never read";
    } else {
      msg += "; no entry after it yet";
    }
    log_.warning(msg);
  }
  if (r > 0) s.head_kind = Stream::Head::kRaw;  // the first unseen entry
  return 0;
}

// Buffers the stream's next entry, classified. 1: a head is buffered; 0: the stream has
// nothing now; <0: reading failed.
int Pipeline::fill(Stream& s) {
  for (;;) {
    if (s.head_kind == Stream::Head::kSilent || s.head_kind == Stream::Head::kLive) return 1;
    if (s.head_kind == Stream::Head::kNone) {
      if (s.empty) return 0;
      const int r = s.reader->follow_next(s.head);
      if (r < 0) {
        ++counters_.read_errors;
        log_.warning("reading the journal failed: " + errno_text(r) + "; retrying shortly from the same position");
        return r;
      }
      if (r == 0) {
        if (s.resume) {
          if (const int k = finish_rebuild(s); k < 0) return k;
          continue;
        }
        s.empty = true;
        return 0;
      }
      s.head_kind = Stream::Head::kRaw;
    }
    if (own_entry(s.head)) {
      ++counters_.own_skipped;
      note_processed(s, s.head);
      s.head_kind = Stream::Head::kNone;
      continue;
    }
    if (s.resume) {
      bool at_resume = false;
      if (auto t = s.reader->test_cursor(s.resume->cursor); t && *t) at_resume = true;
      const auto pos = parse_cursor(s.head.cursor);
      if (at_resume || (pos && compare_positions(*pos, s.resume->position) <= 0)) {
        s.resume_seen = s.resume_seen || at_resume;
        s.head_kind = Stream::Head::kSilent;
        return 1;
      }
      // The first entry after the resume point: the cursor resume reads it again.
      s.head_kind = Stream::Head::kNone;
      if (const int k = finish_rebuild(s); k < 0) return k;
      continue;
    }
    s.head_kind = Stream::Head::kLive;
    return 1;
  }
}

void Pipeline::emit(const Deliver& deliver) {
  for (const auto& d : out_) {
    ++counters_.detections;
    deliver(d);
  }
  out_.clear();
}

void Pipeline::process_head(Stream& s, const Deliver& deliver) {
  if (s.head_kind == Stream::Head::kSilent) {
    correlator_->process(s.head, out_);
    out_.clear();  // delivered before the resume point was written
    ++counters_.replayed;
  } else {
    if (!watermark_restored_) {
      // Step 3: what the stored watermark fires was delivered before it was stored.
      correlator_->advance_to(resume_watermark_, out_);
      out_.clear();
      watermark_restored_ = true;
    }
    const auto matched_before = correlator_->stats().matched;
    correlator_->process(s.head, out_);
    ++counters_.entries;
    counters_.matched += correlator_->stats().matched - matched_before;
    emit(deliver);
  }
  note_processed(s, s.head);
  s.head_kind = Stream::Head::kNone;
}

Pipeline::Counters Pipeline::counters() const {
  // The input counts live in the streams' readers; counters_ holds those of readers
  // already replaced.
  Counters c = counters_;
  for (const auto& s : streams_) {
    c.values_truncated += s->reader->counts().values_truncated;
    c.entries_skipped += s->reader->counts().entries_skipped;
  }
  return c;
}

Pipeline::DrainStatus Pipeline::drain(std::size_t max_entries, const Deliver& deliver) {
  caught_up_ = false;
  if (follower_->take_invalidated() && config_.follow.kind == FollowSpec::Kind::kDirectory) {
    reopen_streams();
    discover();
  }
  for (auto& s : streams_) s->empty = false;
  for (std::size_t n = 0; n < max_entries; ++n) {
    // Merge by time: the stream whose next entry is oldest goes first.
    Stream* best = nullptr;
    for (auto& s : streams_) {
      const int r = fill(*s);
      if (r < 0) return DrainStatus::kError;
      if (r > 0 && (best == nullptr || s->head.realtime_us < best->head.realtime_us)) best = s.get();
    }
    if (best == nullptr) {
      caught_up_ = true;
      return DrainStatus::kCaughtUp;
    }
    process_head(*best, deliver);
  }
  return DrainStatus::kMore;
}

void Pipeline::advance_wall_clock(core::Micros now_us, const Deliver& deliver) {
  static_assert(kDiscoverEveryTicks > 0);
  if (++ticks_ % kDiscoverEveryTicks == 0) discover();
  if (!config_.wall_clock || !live() || !caught_up_) return;
  if (!watermark_restored_) {
    correlator_->advance_to(resume_watermark_, out_);
    out_.clear();
    watermark_restored_ = true;
  }
  correlator_->advance_to(now_us - config_.lateness - config_.wall_clock_delay, out_);
  emit(deliver);
}

}  // namespace jcorr::daemon
