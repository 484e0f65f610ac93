// The subcommands of the jcorr binary. Each takes the arguments after its name and
// returns the process exit code (see exit_codes.h); none throws.
#pragma once

#include <string>
#include <vector>

namespace jcorr::app {

int replay_command(const std::vector<std::string>& args);
int explain_command(const std::vector<std::string>& args);
int rules_command(const std::vector<std::string>& args);

}  // namespace jcorr::app
