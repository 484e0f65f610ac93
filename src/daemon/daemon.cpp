#include "jcorr/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "daemon/asio.h"
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <unordered_set>

#include "jcorr/app/rule_files.h"
#include "jcorr/baseline/baseline_watch.h"
#include "jcorr/baseline/enrichment.h"
#include "jcorr/daemon/checkpoint.h"
#include "jcorr/daemon/config.h"
#include "jcorr/daemon/logger.h"
#include "jcorr/daemon/metrics.h"
#include "jcorr/daemon/notifier.h"
#include "jcorr/daemon/outputs.h"
#include "jcorr/daemon/pipeline.h"
#include "jcorr/daemon/steps.h"

namespace jcorr::daemon {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kDrainBatch = 1024;        // entries per turn of the loop
constexpr std::size_t kMaxOwnPids = 16;          // own process ids remembered in the checkpoint
constexpr auto kTick = std::chrono::seconds(1);  // wall-clock watermark, retries, checkpoint, status
constexpr auto kReadRetry = std::chrono::milliseconds(200);

core::Micros now_realtime_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string boot_id() {
  sd_id128_t id{};
  if (sd_id128_get_boot(&id) < 0) return {};
  char s[SD_ID128_STRING_MAX];
  return sd_id128_to_string(id, s);
}

void log_diagnostics(const Logger& log, const std::vector<core::Diagnostic>& ds) {
  for (const auto& d : ds) {
    if (d.severity == core::Severity::kError) log.error(d.to_string());
    else log.warning(d.to_string());
  }
}

}  // namespace

struct Daemon::Impl {
  Impl(std::string path, Logger& l) : config_path(std::move(path)), log(l), steps(l) {}

  std::string config_path;
  Logger& log;
  asio::io_context io{1};
  Steps steps;
  Notifier notifier;

  DaemonConfig config;
  std::optional<LogLevel> level_override;
  int lock_fd = -1;
  std::optional<Checkpoint> checkpoint;  // as read at start
  std::vector<OwnPid> own_pids;
  std::unique_ptr<core::RuleSet> loaded_rules;  // between the rules and journal steps
  // The approved baseline and this machine's unit files: baseline lists in rules, and
  // the enrichment of timer detections (docs/baseline.md). Null when neither is wanted.
  std::shared_ptr<baseline::BaselineWatch> watch;
  std::optional<baseline::Enricher> enricher;
  std::uint64_t enriched_total = 0;
  std::uint64_t retired_scans = 0;  // scans of watches replaced by reloads
  std::unique_ptr<Outputs> outputs;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<MetricsServer> metrics;
  std::string metrics_bound;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> tick_timer;
  std::unique_ptr<asio::steady_timer> watchdog_timer;
  std::unique_ptr<asio::steady_timer> retry_timer;

  // Detections some output refused, oldest first; delivered again on every tick. While
  // any is held the checkpoint does not move, and above the cap reading pauses.
  std::deque<core::Detection> pending;
  std::optional<PipelinePoint> committable;  // every detection up to here was accepted
  std::optional<PipelinePoint> written;      // the checkpoint on disk
  std::chrono::steady_clock::time_point last_write{};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool drain_scheduled = false;
  bool unflushed = false;  // detections handed to the outputs since their last flush
  bool paused = false;
  bool ready_sent = false;
  bool stopping = false;
  int exit_code = kRunOk;

  // Cumulative figures across reloads, for metrics and STATUS.
  std::map<std::string, std::uint64_t> detections_by_rule;
  std::uint64_t detections_total = 0;
  std::uint64_t checkpoint_writes = 0;
  std::uint64_t checkpoint_failures = 0;
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  Pipeline::Counters retired;  // counters of pipelines replaced by reloads
  core::CorrelatorStats retired_stats;
  std::uint64_t status_entries = 0;
  std::chrono::steady_clock::time_point status_at = std::chrono::steady_clock::now();

  // ---- startup steps ----

  // A directory of many machines holds one journal handle per machine, each with every
  // file of the directory open: take the hard limit on descriptors.
  std::expected<void, StepError> step_file_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) log.warning(std::string("raising RLIMIT_NOFILE: ") + std::strerror(errno));
    }
    return {};
  }

  std::expected<void, StepError> step_state_directory() {
    std::error_code ec;
    fs::create_directories(config.state_directory, ec);
    if (ec)
      return std::unexpected(StepError{kRunInput, "cannot create " + config.state_directory + ": " + ec.message()});
    const std::string lock_path = config.state_directory + "/lock";
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0)
      return std::unexpected(StepError{kRunInput, lock_path + ": " + std::strerror(errno)});
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      ::close(lock_fd);
      lock_fd = -1;
      return std::unexpected(StepError{
          kRunInput, e == EWOULDBLOCK ? "another jcorr daemon uses the state directory " + config.state_directory
                                      : lock_path + ": " + std::strerror(e)});
    }
    return {};
  }

  void unlock_state_directory() {
    if (lock_fd >= 0) ::close(lock_fd);
    lock_fd = -1;
  }

  std::expected<void, StepError> step_checkpoint() {
    auto c = read_checkpoint(config.state_directory);
    if (!c)
      return std::unexpected(StepError{
          kRunInput, c.error() + " (move it away to start again without it; detections may then repeat or be missed)"});
    if (*c && (*c)->source != config.follow.identity()) {
      log.warning("the checkpoint was taken on " + (*c)->source + ", not on " + config.follow.identity() +
                  "; it is not used");
      own_pids = (*c)->own_pids;
    } else if (*c) {
      checkpoint = **c;
      own_pids = checkpoint->own_pids;
      std::uint64_t latest = 0;
      for (const auto& s : checkpoint->streams) latest = std::max(latest, s.position.realtime_us);
      log.info("checkpoint: " + std::to_string(checkpoint->streams.size()) + " stream(s), latest entry " +
               (latest ? core::format_time_utc(static_cast<std::int64_t>(latest)) : std::string("none")));
    } else {
      log.info("no checkpoint in " + config.state_directory + "; starting at the journal's " +
               (config.start_at == DaemonConfig::StartAt::kTail ? "end" : "start"));
    }
    const OwnPid me{boot_id(), static_cast<std::uint32_t>(::getpid())};
    if (std::find(own_pids.begin(), own_pids.end(), me) == own_pids.end()) own_pids.push_back(me);
    if (own_pids.size() > kMaxOwnPids)
      own_pids.erase(own_pids.begin(), own_pids.end() - static_cast<std::ptrdiff_t>(kMaxOwnPids));
    return {};
  }

  // Opens the baseline and the unit files of c.baseline; null when no baseline file is
  // named and enrichment is off. A baseline that cannot be read is a failure; a root
  // that cannot be opened only turns enrichment off (logged).
  std::expected<std::shared_ptr<baseline::BaselineWatch>, std::string> open_watch(const DaemonConfig& c) {
    const auto& b = c.baseline;
    if (b.file.empty() && !b.enrich) return nullptr;
    std::optional<baseline::Baseline> approved;
    if (!b.file.empty()) {
      auto read = baseline::BaselineWatch::read_baseline_file(b.file);
      if (!read) return std::unexpected("baseline: " + read.error());
      approved = std::move(*read);
    }
    baseline::WatchOptions options;
    options.min_rescan = std::chrono::microseconds(b.rescan_interval);
    auto w = baseline::BaselineWatch::open(approved, std::filesystem::path(b.root), options);
    if (!w) {
      log.warning("baseline: the unit files under " + b.root + " cannot be read (" + w.error() +
                  "); no enrichment, and lists that compare files with the baseline are unavailable");
      if (!approved) return nullptr;
      w = baseline::BaselineWatch::open(std::move(approved), std::nullopt, options);
      if (!w) return std::unexpected("baseline: " + w.error());
    }
    if ((*w)->has_root() && (*w)->machine_id().empty() && b.enrich)
      log.warning("baseline: " + b.root + "/etc/machine-id is missing or malformed; detections are not enriched");
    return std::move(*w);
  }

  // Loads the configured rules; errors (or no rule at all) are a failure.
  std::expected<std::unique_ptr<core::RuleSet>, std::string> load_rules(
      const DaemonConfig& c, const std::shared_ptr<baseline::BaselineWatch>& with_watch) {
    std::vector<std::string> paths = c.rules;
    if (paths.empty()) paths.push_back(app::default_rules_path());
    core::LoadOptions options;
    if (with_watch) options.baseline_list = baseline::BaselineWatch::list_provider(with_watch);
    options.regex_max_mem = c.regex_max_mem;
    auto loaded = app::load_rule_paths(paths, options);
    log_diagnostics(log, loaded.diagnostics);
    if (core::has_errors(loaded.diagnostics))
      return std::unexpected("the rules have errors (listed above; jcorr rules check shows them too)");
    if (!loaded.set || loaded.set->rules.empty()) return std::unexpected("no rules found");
    return std::move(loaded.set);
  }

  std::expected<void, StepError> step_rules() {
    auto w = open_watch(config);
    if (!w) return std::unexpected(StepError{kRunRules, w.error()});
    auto r = load_rules(config, *w);
    if (!r) return std::unexpected(StepError{kRunRules, r.error()});
    loaded_rules = std::move(*r);
    set_watch(config, std::move(*w));
    log.info("loaded " + std::to_string(loaded_rules->rules.size()) + " rules");
    return {};
  }

  std::expected<void, StepError> step_outputs() {
    std::vector<core::Diagnostic> diags;
    auto o = Outputs::open(config.outputs, log, diags);
    log_diagnostics(log, diags);
    if (!o) return std::unexpected(StepError{kRunUsage, o.error()});
    outputs = std::move(*o);
    return {};
  }

  std::expected<void, StepError> step_journal() {
    auto p = Pipeline::open(io, config, std::move(loaded_rules), own_pids, log);
    if (!p) return std::unexpected(StepError{kRunInput, p.error()});
    pipeline = std::move(*p);
    std::optional<PipelinePoint> resume;
    if (checkpoint) resume = PipelinePoint{checkpoint->streams, checkpoint->watermark};
    if (auto r = pipeline->position(resume, config.start_at); !r)
      return std::unexpected(StepError{kRunInput, r.error()});
    committable = resume;
    written = resume;
    log.info("following " + config.follow.identity() + "; rewind on resume and reload " +
             core::format_duration(pipeline->rewind()));
    return {};
  }

  std::expected<void, StepError> step_metrics() {
    if (!config.metrics.enabled) return {};
    metrics = std::make_unique<MetricsServer>(io, log, [this] { return render_metrics(); });
    auto bound = metrics->listen(config.metrics.address, config.metrics.port);
    if (!bound) {
      metrics.reset();
      return std::unexpected(StepError{kRunUsage, "metrics: " + bound.error()});
    }
    metrics_bound = *bound;
    log.info("metrics on http://" + metrics_bound + "/metrics");
    return {};
  }

  std::expected<void, StepError> step_signals() {
    signals = std::make_unique<asio::signal_set>(io, SIGHUP, SIGTERM, SIGINT);
    arm_signals();
    return {};
  }

  std::expected<void, StepError> step_watch() {
    if (auto r = pipeline->watch([this] { schedule_drain(); }); !r)
      return std::unexpected(StepError{kRunInput, r.error()});
    tick_timer = std::make_unique<asio::steady_timer>(io);
    retry_timer = std::make_unique<asio::steady_timer>(io);
    arm_tick();
    if (auto interval = notifier.watchdog_interval()) {
      watchdog_timer = std::make_unique<asio::steady_timer>(io);
      arm_watchdog(*interval);
      log.info("watchdog keep-alive every " + core::format_duration(interval->count()));
    }
    schedule_drain();
    return {};
  }

  void stop_timers() {
    if (tick_timer) tick_timer->cancel();
    if (retry_timer) retry_timer->cancel();
    if (watchdog_timer) watchdog_timer->cancel();
    if (pipeline) pipeline->stop_watching();
  }

  // ---- the loop ----

  void arm_signals() {
    signals->async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload();
      } else {
        log.info(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + "; stopping");
        shutdown();
        return;
      }
      if (!stopping) arm_signals();
    });
  }

  void arm_tick() {
    tick_timer->expires_after(kTick);
    tick_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      on_tick();
      arm_tick();
    });
  }

  void arm_watchdog(std::chrono::microseconds interval) {
    watchdog_timer->expires_after(interval);
    watchdog_timer->async_wait([this, interval](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      notifier.watchdog();
      arm_watchdog(interval);
    });
  }

  void schedule_drain() {
    if (drain_scheduled || stopping) return;
    drain_scheduled = true;
    asio::post(io, [this] { drain_step(); });
  }

  void set_watch(const DaemonConfig& c, std::shared_ptr<baseline::BaselineWatch> w) {
    if (watch) retired_scans += watch->scans();
    watch = std::move(w);
    enricher.reset();
    if (watch && c.baseline.enrich && watch->has_root() && !watch->machine_id().empty()) enricher.emplace(watch);
  }

  void deliver(const core::Detection& d) {
    unflushed = true;
    ++detections_total;
    ++detections_by_rule[d.rule_id];
    if (enricher) {
      // Read the unit files now: the closer to the detection, the truer the picture
      // (a file deleted since is itself a finding). Bounded by the scanner's caps.
      core::Detection e = d;
      if (enricher->attach(e)) {
        ++enriched_total;
        if (!pending.empty() || !outputs || !outputs->handle(e)) pending.push_back(std::move(e));
        return;
      }
    }
    if (!pending.empty() || !outputs || !outputs->handle(d)) pending.push_back(d);
  }

  // Hands held detections to the outputs again, oldest first, until one is refused.
  void retry_pending() {
    while (!pending.empty() && outputs && outputs->handle(pending.front())) pending.pop_front();
  }

  void update_committable() {
    if (pending.empty() && pipeline->live()) committable = pipeline->point();
  }

  void drain_step() {
    drain_scheduled = false;
    if (stopping) return;
    if (pending.size() >= config.max_pending_detections) {
      if (!paused) log.warning(std::to_string(pending.size()) + " detections are held for outputs that refuse them; "
                               "reading pauses until they are taken");
      paused = true;
      return;
    }
    paused = false;
    const auto status = pipeline->drain(kDrainBatch, [this](const core::Detection& d) { deliver(d); });
    update_committable();
    flush_outputs();
    switch (status) {
      case Pipeline::DrainStatus::kMore:
        pipeline->process_journal();
        maybe_checkpoint(false);
        schedule_drain();
        break;
      case Pipeline::DrainStatus::kCaughtUp:
        maybe_checkpoint(false);
        if (!ready_sent) {
          ready_sent = true;
          notifier.ready();
          log.info("caught up; following");
          send_status();
        }
        break;
      case Pipeline::DrainStatus::kError:
        retry_timer->expires_after(kReadRetry);
        retry_timer->async_wait([this](const boost::system::error_code& ec) {
          if (!ec) schedule_drain();
        });
        break;
    }
  }

  // Detections reach readers of the outputs at the end of the turn that made them, not
  // only with the next checkpoint.
  void flush_outputs() {
    if (!unflushed || !outputs) return;
    unflushed = false;
    outputs->flush();
  }

  void on_tick() {
    pipeline->advance_wall_clock(now_realtime_us(), [this](const core::Detection& d) { deliver(d); });
    retry_pending();
    update_committable();
    flush_outputs();
    maybe_checkpoint(false);
    if ((paused && pending.size() < config.max_pending_detections) || !pipeline->caught_up()) schedule_drain();
    send_status();
  }

  void maybe_checkpoint(bool force) {
    if (!committable) return;
    if (written && *written == *committable) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_write < std::chrono::microseconds(config.checkpoint_interval)) return;
    // Durable outputs first: the checkpoint must never be ahead of the detections.
    if (outputs) outputs->flush();
    Checkpoint c;
    c.source = config.follow.identity();
    c.streams = committable->streams;
    c.watermark = committable->watermark;
    c.written_realtime_us = static_cast<std::uint64_t>(now_realtime_us());
    c.own_pids = own_pids;
    if (auto r = write_checkpoint(config.state_directory, c); !r) {
      if (checkpoint_failures++ % 60 == 0) log.error("writing the checkpoint failed: " + r.error());
      return;
    }
    ++checkpoint_writes;
    last_write = now;
    written = committable;
  }

  void send_status() {
    const auto now = std::chrono::steady_clock::now();
    const auto entries = retired.entries + pipeline->counters().entries;
    const double secs = std::chrono::duration<double>(now - status_at).count();
    const double rate = secs > 0 ? static_cast<double>(entries - status_entries) / secs : 0;
    status_entries = entries;
    status_at = now;
    char text[256];
    std::snprintf(text, sizeof text, "%s; %.0f entries/s; %llu entries, %llu detections%s",
                  !pipeline->live() ? "rebuilding state" : (pipeline->caught_up() ? "following" : "catching up"),
                  rate, static_cast<unsigned long long>(entries), static_cast<unsigned long long>(detections_total),
                  pending.empty() ? "" : ("; " + std::to_string(pending.size()) + " held for outputs").c_str());
    notifier.status(text);
  }

  // ---- reload ----

  void reload() {
    log.info("SIGHUP: reloading configuration and rules");
    notifier.reloading();
    auto done = [this](bool ok) {
      if (ok) ++reloads_ok;
      else ++reloads_failed;
      notifier.ready();
    };
    auto cr = load_config_file(config_path);
    log_diagnostics(log, cr.diagnostics);
    if (!cr.config) {
      log.error("reload rejected: the configuration has errors; the running configuration and rules are kept");
      return done(false);
    }
    DaemonConfig next = std::move(*cr.config);
    if (next.state_directory != config.state_directory) {
      log.warning("state_directory changes only on restart; keeping " + config.state_directory);
      next.state_directory = config.state_directory;
    }
    auto next_watch = open_watch(next);
    if (!next_watch) {
      log.error("reload rejected: " + next_watch.error() + "; the running rules are kept");
      return done(false);
    }
    auto rules = load_rules(next, *next_watch);
    if (!rules) {
      log.error("reload rejected: " + rules.error() + "; the running rules are kept");
      return done(false);
    }
    // Which rules keep their meaning (their state is rebuilt exactly by the replay).
    std::unordered_set<std::string> old_hashes;
    for (const auto& r : pipeline->rules().rules) old_hashes.insert(r->source_hash);
    std::size_t unchanged = 0;
    for (const auto& r : (*rules)->rules) unchanged += old_hashes.count(r->source_hash);

    // Where the new pipeline resumes: the last entries the old one processed.
    std::optional<PipelinePoint> resume = pipeline->point();
    const bool same_journal = next.follow == config.follow;
    if (!same_journal) resume.reset();
    auto p = Pipeline::open(io, next, std::move(*rules), own_pids, log);
    if (!p) {
      log.error("reload rejected: journal: " + p.error());
      return done(false);
    }
    if (auto r = (*p)->position(resume, next.start_at); !r) {
      log.error("reload rejected: positioning in the journal: " + r.error());
      return done(false);
    }
    if (next.outputs != config.outputs) {
      // A webhook spool is locked by whoever has it open, so the old outputs let go
      // before the new ones open; everything they accepted is durable after flush().
      maybe_checkpoint(true);
      if (outputs) outputs->flush();
      outputs.reset();
      std::vector<core::Diagnostic> diags;
      auto o = Outputs::open(next.outputs, log, diags);
      log_diagnostics(log, diags);
      if (!o) {
        log.error("reload rejected: outputs: " + o.error() + "; reopening the previous outputs");
        std::vector<core::Diagnostic> ignored;
        if (auto back = Outputs::open(config.outputs, log, ignored)) outputs = std::move(*back);
        else log.error("the previous outputs cannot be reopened either (" + back.error() +
                       "); detections are held until a reload with working outputs");
        return done(false);
      }
      outputs = std::move(*o);
    }
    // Commit: from here on nothing fails back to the old set.
    maybe_checkpoint(true);
    pipeline->stop_watching();
    retired.entries += pipeline->counters().entries;
    retired.matched += pipeline->counters().matched;
    retired.replayed += pipeline->counters().replayed;
    retired.own_skipped += pipeline->counters().own_skipped;
    retired.read_errors += pipeline->counters().read_errors;
    retired.gaps += pipeline->counters().gaps;
    retired.reopens += pipeline->counters().reopens;
    retired.values_truncated += pipeline->counters().values_truncated;
    retired.entries_skipped += pipeline->counters().entries_skipped;
    retired_stats.evicted += pipeline->correlator().stats().evicted;
    retired_stats.expired += pipeline->correlator().stats().expired;
    retired_stats.suppressed += pipeline->correlator().stats().suppressed;
    retired_stats.late_entries += pipeline->correlator().stats().late_entries;
    retired_stats.history_dropped += pipeline->correlator().stats().history_dropped;
    retired_stats.members_dropped += pipeline->correlator().stats().members_dropped;
    retired_stats.truncated += pipeline->correlator().stats().truncated;
    pipeline = std::move(*p);
    set_watch(next, std::move(*next_watch));
    if (!same_journal) {
      committable.reset();
      written.reset();
    }
    if (auto r = pipeline->watch([this] { schedule_drain(); }); !r) log.error("watching the journal: " + r.error());
    if (next.metrics != config.metrics) {
      metrics.reset();
      metrics_bound.clear();
      if (next.metrics.enabled) {
        metrics = std::make_unique<MetricsServer>(io, log, [this] { return render_metrics(); });
        if (auto bound = metrics->listen(next.metrics.address, next.metrics.port)) {
          metrics_bound = *bound;
          log.info("metrics on http://" + metrics_bound + "/metrics");
        } else {
          log.error("metrics: " + bound.error() + "; metrics are off until the next reload");
          metrics.reset();
        }
      }
    }
    log.set_level(level_override.value_or(next.log_level));
    const std::size_t total = pipeline->rules().rules.size();
    config = std::move(next);
    log.info("reloaded: " + std::to_string(total) + " rules (" + std::to_string(unchanged) + " unchanged, " +
             std::to_string(total - unchanged) + " new or changed); state rebuilt by a silent replay of the last " +
             core::format_duration(pipeline->rewind()));
    schedule_drain();
    done(true);
  }

  // ---- stop ----

  void shutdown() {
    if (stopping) return;
    notifier.stopping();
    retry_pending();
    update_committable();
    maybe_checkpoint(true);
    if (!pending.empty())
      log.warning(std::to_string(pending.size()) +
                  " detections were refused by the outputs; they are emitted again after the restart");
    stopping = true;
    stop_timers();
    if (signals) signals->cancel();
    if (metrics) metrics->close();
    io.stop();
  }

  // ---- metrics ----

  std::string render_metrics() const {
    MetricsText m;
    const auto& c = pipeline->counters();
    const auto& s = pipeline->correlator().stats();
    const auto now = now_realtime_us();
    m.counter("jcorr_entries_read_total", "Journal entries read and processed live.",
              static_cast<double>(retired.entries + c.entries));
    m.counter("jcorr_detections_enriched_total", "Timer detections enriched with this machine's unit files.",
              static_cast<double>(enriched_total));
    m.counter("jcorr_baseline_scans_total", "Scans of the unit files (enrichment and baseline lists).",
              static_cast<double>(retired_scans + (watch ? watch->scans() : 0)));
    m.counter("jcorr_entries_matched_total", "Live entries that matched at least one event definition.",
              static_cast<double>(retired.matched + c.matched));
    m.counter("jcorr_entries_replayed_total", "Entries read again silently to rebuild state (restart, reload).",
              static_cast<double>(retired.replayed + c.replayed));
    m.counter("jcorr_entries_own_skipped_total", "The daemon's own log entries, skipped.",
              static_cast<double>(retired.own_skipped + c.own_skipped));
    m.counter("jcorr_journal_read_errors_total", "Errors from sd_journal_next (retried, never from the head).",
              static_cast<double>(retired.read_errors + c.read_errors));
    m.counter("jcorr_resume_gaps_total", "Resume points whose entry was gone (vacuumed) when resuming.",
              static_cast<double>(retired.gaps + c.gaps));
    m.family("jcorr_detections_total", "counter", "Detections emitted, by rule.");
    for (const auto& r : pipeline->rules().rules)
      m.sample("jcorr_detections_total", static_cast<double>(detections_by_rule.count(r->id) ? detections_by_rule.at(r->id) : 0),
               {{"rule", r->id}});
    for (const auto& [id, n] : detections_by_rule)
      if (!pipeline->rules().find(id)) m.sample("jcorr_detections_total", static_cast<double>(n), {{"rule", id}});
    m.gauge("jcorr_partial_matches", "Partial matches (and group states) alive now.", static_cast<double>(s.partials));
    m.counter("jcorr_partial_matches_evicted_total", "Partial matches evicted by the caps.",
              static_cast<double>(retired_stats.evicted + s.evicted));
    m.counter("jcorr_partial_matches_expired_total", "Partial matches whose window passed.",
              static_cast<double>(retired_stats.expired + s.expired));
    m.counter("jcorr_detections_suppressed_total", "Completed correlations dropped by suppression.",
              static_cast<double>(retired_stats.suppressed + s.suppressed));
    m.counter("jcorr_late_entries_total", "Entries older than the watermark when they arrived.",
              static_cast<double>(retired_stats.late_entries + s.late_entries));
    m.counter("jcorr_history_dropped_total", "Look-back entries forgotten by the history caps.",
              static_cast<double>(retired_stats.history_dropped + s.history_dropped));
    m.counter("jcorr_members_dropped_total", "Entries absorbed by a repeated step and forgotten by the member cap.",
              static_cast<double>(retired_stats.members_dropped + s.members_dropped));
    m.counter("jcorr_values_truncated_total", "Captured values, evidence fields and hosts cut to caps.capture_bytes.",
              static_cast<double>(retired_stats.truncated + s.truncated));
    m.counter("jcorr_input_values_truncated_total", "Journal field values cut to caps.field_bytes.",
              static_cast<double>(retired.values_truncated + c.values_truncated));
    m.counter("jcorr_input_entries_skipped_total", "Journal entries skipped: too many fields, or unreadable.",
              static_cast<double>(retired.entries_skipped + c.entries_skipped));
    m.gauge("jcorr_watermark_seconds", "The correlator's watermark (Unix time).",
            s.entries == 0 && pipeline->correlator().watermark() == INT64_MIN
                ? 0.0
                : static_cast<double>(pipeline->correlator().watermark()) / 1e6);
    const auto last = pipeline->last_entry_realtime();
    m.gauge("jcorr_lag_seconds", "Now minus the time of the last entry read.",
            last == 0 ? 0.0 : static_cast<double>(now - static_cast<core::Micros>(last)) / 1e6);
    m.gauge("jcorr_caught_up", "1 when every entry available has been read.", pipeline->caught_up() ? 1 : 0);
    const auto since = last_write.time_since_epoch().count() == 0 ? started : last_write;
    m.gauge("jcorr_checkpoint_age_seconds", "Seconds since the checkpoint was last written (or since start).",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
    m.counter("jcorr_checkpoint_writes_total", "Checkpoint writes.", static_cast<double>(checkpoint_writes));
    m.counter("jcorr_checkpoint_failures_total", "Checkpoint writes that failed (or whose flush failed).",
              static_cast<double>(checkpoint_failures));
    const auto oc = outputs ? outputs->counters() : Outputs::Counters{};
    m.gauge("jcorr_sink_queue_depth", "Detections refused by an output and held for retry.",
            static_cast<double>(pending.size()));
    m.gauge("jcorr_spool_depth", "Detections waiting in webhook spools.", static_cast<double>(oc.spool_depth));
    m.counter("jcorr_delivery_failures_total", "Failed output writes and webhook delivery attempts.",
              static_cast<double>(oc.write_failures + oc.delivery_failures));
    m.counter("jcorr_deliveries_dead_lettered_total", "Webhook deliveries given up.", static_cast<double>(oc.dead_lettered));
    if (outputs && !outputs->webhooks().empty()) {
      const auto hooks = outputs->webhooks();
      auto series = [&](const char* name, const char* type, const char* help, auto field) {
        m.family(name, type, help);
        for (const auto& w : hooks) m.sample(name, static_cast<double>(field(w)), {{"webhook", w.name}});
      };
      series("jcorr_webhook_delivered_total", "counter", "Detections a webhook delivered (2xx).",
             [](const sinks::WebhookMetrics& w) { return w.delivered; });
      series("jcorr_webhook_retried_total", "counter", "Webhook attempts that failed and are retried.",
             [](const sinks::WebhookMetrics& w) { return w.retried; });
      series("jcorr_webhook_dead_lettered_total", "counter", "Webhook deliveries given up (dead-letter/).",
             [](const sinks::WebhookMetrics& w) { return w.dead_lettered; });
      series("jcorr_webhook_spool_files", "gauge", "Detections waiting in a webhook's spool.",
             [](const sinks::WebhookMetrics& w) { return w.spool_files; });
      series("jcorr_webhook_refused_total", "counter", "Detections a webhook's spool refused (full or unwritable).",
             [](const sinks::WebhookMetrics& w) { return w.spool_full_rejections + w.spool_errors; });
    }
    m.counter("jcorr_journal_wakeups_total", "Wake-ups of the journal descriptor.",
              static_cast<double>(pipeline->follower().wakeups()));
    m.counter("jcorr_journal_invalidations_total", "Journal files added or removed while following.",
              static_cast<double>(pipeline->follower().invalidations()));
    m.counter("jcorr_journal_reopens_total", "Stream handles opened again after journal files changed.",
              static_cast<double>(retired.reopens + c.reopens));
    m.gauge("jcorr_journal_streams", "Journal streams followed (one per machine of a directory).",
            static_cast<double>(pipeline->streams()));
    m.family("jcorr_reloads_total", "counter", "SIGHUP reloads, by result.");
    m.sample("jcorr_reloads_total", static_cast<double>(reloads_ok), {{"result", "ok"}});
    m.sample("jcorr_reloads_total", static_cast<double>(reloads_failed), {{"result", "rejected"}});
    m.gauge("jcorr_rules", "Rules loaded.", static_cast<double>(pipeline->rules().rules.size()));
    return m.text();
  }
};

Daemon::Daemon(std::string config_path, Logger& log) : impl_(std::make_unique<Impl>(std::move(config_path), log)) {}

Daemon::~Daemon() = default;

int Daemon::run(bool check_only, std::optional<LogLevel> level) {
  auto& I = *impl_;
  auto cr = load_config_file(I.config_path);
  log_diagnostics(I.log, cr.diagnostics);
  if (!cr.config) {
    I.log.error("the configuration " + I.config_path + " has errors; not started");
    return kRunUsage;
  }
  I.config = std::move(*cr.config);
  I.level_override = level;
  I.log.set_level(level.value_or(I.config.log_level));
  if (check_only) {
    auto w = I.open_watch(I.config);
    if (!w) {
      I.log.error(w.error());
      return kRunRules;
    }
    auto rules = I.load_rules(I.config, *w);
    if (!rules) {
      I.log.error(rules.error());
      return kRunRules;
    }
    I.log.info("configuration and " + std::to_string((*rules)->rules.size()) + " rules are valid");
    return kRunOk;
  }

  I.steps.add("file limit", [&] { return I.step_file_limit(); });
  I.steps.add("state directory", [&] { return I.step_state_directory(); }, [&] { I.unlock_state_directory(); });
  I.steps.add("checkpoint", [&] { return I.step_checkpoint(); });
  I.steps.add("rules", [&] { return I.step_rules(); });
  I.steps.add("outputs", [&] { return I.step_outputs(); }, [&] {
    if (I.outputs) I.outputs->flush();
    I.outputs.reset();
  });
  I.steps.add("journal", [&] { return I.step_journal(); }, [&] { I.pipeline.reset(); });
  I.steps.add("metrics", [&] { return I.step_metrics(); }, [&] { I.metrics.reset(); });
  // The signal set stays (cancelled) until the daemon is destroyed: destroying it would
  // give SIGTERM its default action back while the outputs are still being flushed, and
  // a second SIGTERM then (timeout(1) signals its child and then its process group; an
  // impatient operator) would kill the daemon before its last write.
  I.steps.add("signals", [&] { return I.step_signals(); }, [&] {
    if (I.signals) I.signals->cancel();
  });
  I.steps.add("watch", [&] { return I.step_watch(); }, [&] { I.stop_timers(); });

  if (auto r = I.steps.start_all(); !r) {
    I.log.error(r.error().message);
    return r.error().exit_code;
  }
  I.io.run();
  I.steps.stop_all();
  // Everything is written; only returning is left. Destroying the signal set gives
  // SIGTERM and SIGINT their default action back, and one arriving now would end an exit
  // that is already clean with "killed by SIGTERM": they are ignored from here (blocked
  // while the action changes; the other threads are gone, and one already pending is
  // discarded when its action becomes SIG_IGN).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  I.signals.reset();
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  I.log.info("stopped");
  return I.exit_code;
}

}  // namespace jcorr::daemon
