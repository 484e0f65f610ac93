// The jcorr binary: argument dispatch to the subcommands, nothing else.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "jcorr/app/commands.h"
#include "jcorr/app/exit_codes.h"
#include "jcorr/baseline/baseline_command.h"
#include "jcorr/daemon/run_command.h"

namespace {

constexpr const char* kHelp = R"(jcorr - journald log-correlation engine

usage: jcorr COMMAND [OPTIONS] ...

Commands:
  replay    run the rules over exported journals (.journal files or directories,
            journalctl -o export, journalctl -o json, or - for stdin)
  explain   show how one rule sees the inputs: matches, partial matches, why each ended
  rules     check rule files (every problem at once) or run the tests rules carry
  baseline  inventory timers and their services from the unit files (scan), and
            report new, changed and removed ones with their risky properties (diff)
  run       the resident daemon: follow the journal, reload on SIGHUP (--config FILE)
  version   print the version

Run "jcorr COMMAND --help" for the options of a command.

Examples:
  jcorr replay --rules /usr/share/jcorr/rules /var/log/journal/
  journalctl -o export --since today | jcorr replay -
  jcorr rules check rules/
  jcorr baseline scan > baseline.json && jcorr baseline diff baseline.json
  jcorr explain --rule t1053-006-system-timer-ssh-sudo host.export

Exit codes: 0 done, 1 detections (with --exit-code), 2 usage error, 3 rule errors,
4 unreadable input (or input problems with --strict), 70 internal error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? jcorr::app::kExitUsage : jcorr::app::kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "replay") return jcorr::app::replay_command(args);
    if (command == "explain") return jcorr::app::explain_command(args);
    if (command == "rules") return jcorr::app::rules_command(args);
    if (command == "run") return jcorr::daemon::run_command(args);
    if (command == "baseline") return jcorr::baseline::baseline_command(args);
    if (command == "version" || command == "--version") {
      std::cout << "jcorr " JCORR_VERSION "\n";
      return jcorr::app::kExitOk;
    }
  } catch (const std::exception& e) {
    std::cerr << "jcorr: internal error: " << e.what() << "\n";
    return jcorr::app::kExitInternal;
  }
  std::cerr << "jcorr: unknown command \"" << command << "\" (see jcorr --help)\n";
  return jcorr::app::kExitUsage;
}
