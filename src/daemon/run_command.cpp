// `jcorr run`: arguments, then the daemon.
#include "jcorr/daemon/run_command.h"

#include <iostream>

#include "jcorr/daemon/daemon.h"
#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace {

constexpr const char* kHelp = R"(usage: jcorr run --config FILE [--check] [--log-level LEVEL]

Runs the resident daemon: follows this machine's journal (or a journald namespace,
or a journal directory such as systemd-journal-remote's), correlates live entries
with the rules, and writes detections to the configured outputs. It resumes where
it stopped (checkpoint in the state directory), reloads configuration and rules on
SIGHUP, and stops cleanly on SIGTERM or SIGINT.

Options:
  -c, --config FILE      the configuration file (JSON; see docs/daemon.md)
      --check            validate the configuration and rules, then exit
      --log-level LEVEL  error, warning, notice, info or debug (overrides the file)
  -h, --help             this help

Signals: SIGHUP reload (a broken rule set is rejected, the running one kept),
SIGTERM/SIGINT flush, checkpoint and exit 0.

Exit codes: 0 stopped cleanly (or --check passed), 2 bad command line or
configuration, 3 rule errors, 4 journal or state directory unusable, 70 internal.
)";

}  // namespace

int run_command(const std::vector<std::string>& args) {
  std::string config;
  bool check = false;
  std::optional<LogLevel> level;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
        out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return kRunOk;
    } else if (a == "-c" || a == "--config" || a.starts_with("--config=")) {
      if (!value(config)) {
        std::cerr << "jcorr run: --config needs a file\n";
        return kRunUsage;
      }
    } else if (a == "--check") {
      check = true;
    } else if (a == "--log-level" || a.starts_with("--log-level=")) {
      if (!value(v) || !(level = parse_log_level(v))) {
        std::cerr << "jcorr run: --log-level needs error, warning, notice, info or debug\n";
        return kRunUsage;
      }
    } else {
      std::cerr << "jcorr run: unknown argument " << a << "\n(see jcorr run --help)\n";
      return kRunUsage;
    }
  }
  if (config.empty()) {
    std::cerr << "jcorr run: --config FILE is required\n(see jcorr run --help)\n";
    return kRunUsage;
  }
  Logger log;
  Daemon daemon(config, log);
  return daemon.run(check, level);
}

}  // namespace jcorr::daemon
