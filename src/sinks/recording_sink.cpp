#include "jcorr/sinks/recording_sink.h"

namespace jcorr::sinks {

bool RecordingSink::handle(const core::Detection& detection) {
  std::lock_guard lock(mutex_);
  if (!accepting_) {
    ++refused_;
    return false;
  }
  detections_.push_back(detection);
  return true;
}

void RecordingSink::flush() {
  std::lock_guard lock(mutex_);
  ++flushes_;
}

void RecordingSink::set_accepting(bool accepting) {
  std::lock_guard lock(mutex_);
  accepting_ = accepting;
}

std::vector<core::Detection> RecordingSink::detections() const {
  std::lock_guard lock(mutex_);
  return detections_;
}

std::size_t RecordingSink::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

std::size_t RecordingSink::flushes() const {
  std::lock_guard lock(mutex_);
  return flushes_;
}

}  // namespace jcorr::sinks
