// Sinks: where detections go once the correlator has emitted them (stdout or a file as
// JSON lines, webhooks, a recording sink for tests). The interface is deliberately tiny,
// as spdlog's is: handle() one detection, flush() what is buffered. A sink never throws
// and never blocks on a network peer; what it cannot accept it says so by returning
// false, and counts.
#pragma once

#include "jcorr/core/detection.h"

namespace jcorr::sinks {

class Sink {
 public:
  virtual ~Sink() = default;

  // Takes one detection. Returns true when the sink has durably accepted it (written
  // to its stream, or stored in its spool on disk, or deliberately not for this sink by
  // its filter); false when it could not, which the sink has already logged and counted.
  virtual bool handle(const core::Detection& detection) = 0;

  // Pushes out whatever the sink buffers (stdio buffers, a sender to wake). Never
  // waits for a network peer.
  virtual void flush() = 0;
};

}  // namespace jcorr::sinks
