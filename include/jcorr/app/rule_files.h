// Reading rule files and directories from disk into a RuleSet: the I/O side of the
// core's RuleLoader. A directory contributes every *.json file below it, in sorted
// order; list files named by a rule file are read relative to that file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/rule_loader.h"

namespace jcorr::app {

struct LoadedRules {
  std::unique_ptr<core::RuleSet> set;        // the rules that loaded (may be empty)
  std::vector<core::Diagnostic> diagnostics;  // everything found, errors and warnings
  std::vector<std::string> files;            // the rule files read
};

// Loads every path (file or directory). Unreadable paths are reported as diagnostics.
LoadedRules load_rule_paths(const std::vector<std::string>& paths, const core::LoadOptions& options = {});

// The rules directory used when none is given: $JCORR_RULES, the installed rules, or
// ./rules, whichever exists first.
std::string default_rules_path();

}  // namespace jcorr::app
