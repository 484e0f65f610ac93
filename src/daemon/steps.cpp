#include "jcorr/daemon/steps.h"

#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

void Steps::add(std::string name, Start start, Stop stop) {
  steps_.push_back(Step{std::move(name), std::move(start), std::move(stop)});
}

std::expected<void, StepError> Steps::start_all() {
  for (; started_ < steps_.size(); ++started_) {
    auto& s = steps_[started_];
    log_.debug("start: " + s.name);
    if (!s.start) continue;
    if (auto r = s.start(); !r) {
      StepError e = r.error();
      e.message = s.name + ": " + e.message;
      stop_all();
      return std::unexpected(std::move(e));
    }
  }
  return {};
}

void Steps::stop_all() {
  while (started_ > 0) {
    auto& s = steps_[--started_];
    log_.debug("stop: " + s.name);
    if (s.stop) s.stop();
  }
}

}  // namespace jcorr::daemon
