// The resident daemon (`jcorr run`): the wiring of configuration, rules, the followed
// journal, outputs, checkpoint, signals, metrics and sd_notify over one io_context on
// one thread, which is also the one thread the sd_journal handle ever sees.
//
// Startup is an ordered list of named steps (steps.h): state directory and its lock,
// checkpoint, rules, outputs, journal (positioned, state rebuilt), metrics, signals,
// watching and timers; READY=1 follows the first drain. SIGHUP reloads configuration
// and rules (a broken set is rejected and the running one kept); SIGTERM and SIGINT
// flush, checkpoint and exit 0. docs/daemon.md is the user-facing description.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

// Exit codes of `jcorr run` (the binary's, see jcorr --help).
inline constexpr int kRunOk = 0;
inline constexpr int kRunUsage = 2;     // bad command line or configuration
inline constexpr int kRunRules = 3;     // the rules have errors
inline constexpr int kRunInput = 4;     // the journal or the state directory cannot be used
inline constexpr int kRunInternal = 70;

class Daemon {
 public:
  // The configuration is read from config_path by run() and on every SIGHUP.
  Daemon(std::string config_path, Logger& log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts, runs until SIGTERM or SIGINT, stops; returns the exit code. With check_only
  // it loads the configuration and rules, reports, and returns without following. A
  // level given here overrides the configuration's log_level (also on reload).
  int run(bool check_only = false, std::optional<LogLevel> level = std::nullopt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::daemon
