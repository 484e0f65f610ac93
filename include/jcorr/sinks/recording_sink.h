// A sink that keeps what it receives, for tests: assert on the detections a pipeline
// produced, or make it refuse to see how callers deal with a sink that cannot accept.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "jcorr/sinks/sink.h"

namespace jcorr::sinks {

class RecordingSink final : public Sink {
 public:
  // Records the detection and returns true, or returns false without recording while
  // set_accepting(false) is in force. Thread-safe.
  bool handle(const core::Detection& detection) override;

  // Counts the call; there is nothing to push out.
  void flush() override;

  // Makes handle() accept (true, the default) or refuse every detection.
  void set_accepting(bool accepting);

  // A copy of the detections recorded so far, in the order they were handled.
  std::vector<core::Detection> detections() const;

  // How many handle() calls were refused, and how many flush() calls were made.
  std::size_t refused() const;
  std::size_t flushes() const;

 private:
  mutable std::mutex mutex_;
  std::vector<core::Detection> detections_;
  bool accepting_ = true;
  std::size_t refused_ = 0;
  std::size_t flushes_ = 0;
};

}  // namespace jcorr::sinks
