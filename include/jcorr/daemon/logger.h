// The daemon's own log: one line per message on stderr, with a level.
//
// Under systemd, stderr is a journal stream (JOURNAL_STREAM names it), so each line
// starts with a "<N>" syslog priority prefix that journald turns into PRIORITY= and
// strips; elsewhere a line carries a UTC timestamp and the level's name. The daemon
// never reads its own lines back: the follower skips entries whose _PID is one of the
// daemon's own (docs/daemon.md).
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace jcorr::daemon {

enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// Parses "error", "warning", "notice", "info" or "debug".
std::optional<LogLevel> parse_log_level(std::string_view text);

class Logger {
 public:
  // Detects a journal stream on stderr (JOURNAL_STREAM matching stderr's device:inode).
  Logger();

  // Messages less severe than level are dropped.
  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }

  // True when messages at level are written.
  bool enabled(LogLevel level) const { return level <= this->level(); }

  // Writes one line (control characters in message are escaped, so a line stays one
  // line). Never throws. Thread-safe: webhook sender threads log through it too.
  void log(LogLevel level, std::string_view message) const;

  void error(std::string_view m) const { log(LogLevel::kError, m); }
  void warning(std::string_view m) const { log(LogLevel::kWarning, m); }
  void notice(std::string_view m) const { log(LogLevel::kNotice, m); }
  void info(std::string_view m) const { log(LogLevel::kInfo, m); }
  void debug(std::string_view m) const { log(LogLevel::kDebug, m); }

 private:
  std::atomic<LogLevel> level_{LogLevel::kInfo};
  bool journal_stream_ = false;
};

}  // namespace jcorr::daemon
