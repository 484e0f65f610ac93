// Startup and teardown as an ordered list of named steps: each step may have a start
// and a stop; starting runs them in order and stops at the first failure, and stopping
// runs the stops of the steps that started, in reverse. Every step is logged (debug),
// so a daemon that fails to start says exactly where.
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <vector>

namespace jcorr::daemon {

class Logger;

// Why a step failed, and the exit code that failure maps to.
struct StepError {
  int exit_code = 1;
  std::string message;
};

class Steps {
 public:
  using Start = std::function<std::expected<void, StepError>()>;
  using Stop = std::function<void()>;

  explicit Steps(const Logger& log) : log_(log) {}

  // Appends a step; either function may be empty.
  void add(std::string name, Start start, Stop stop = {});

  // Runs the starts in order. On a failure, stops what started and returns the error,
  // prefixed with the step's name.
  std::expected<void, StepError> start_all();

  // Runs the stops of the started steps in reverse order, once.
  void stop_all();

 private:
  struct Step {
    std::string name;
    Start start;
    Stop stop;
  };
  const Logger& log_;
  std::vector<Step> steps_;
  std::size_t started_ = 0;
};

}  // namespace jcorr::daemon
