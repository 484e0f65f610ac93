// `jcorr baseline`: the command-line face of the timer baseline and drift audit.
//
//   jcorr baseline scan [--root DIR]
//   jcorr baseline diff BASELINE.json [--root DIR] [--format text|jsonl|json]
//   jcorr baseline --help
//
// The main binary hands over the arguments after "baseline"; everything else (parsing,
// output, exit status) happens here. Exit status: 0 success and no drift, 1 drift
// found, 2 usage error or a baseline/root that cannot be read.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace jcorr::baseline {

// Runs `jcorr baseline ARGS…` with standard output and error; diff prints a readable
// report when standard output is a terminal and JSON lines otherwise. Returns the exit
// status. Never throws.
int baseline_command(const std::vector<std::string>& args);

// Same, writing to out and err; out_is_tty selects diff's default format.
int baseline_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool out_is_tty);

}  // namespace jcorr::baseline
