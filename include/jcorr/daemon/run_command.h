// `jcorr run --config FILE`: the command-line face of the daemon (daemon.h).
#pragma once

#include <string>
#include <vector>

namespace jcorr::daemon {

// Parses the arguments after "run" and runs the daemon; returns the exit code.
int run_command(const std::vector<std::string>& args);

}  // namespace jcorr::daemon
