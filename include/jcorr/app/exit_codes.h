// Documented exit codes of the jcorr binary (also in `jcorr --help` and README.md).
#pragma once

namespace jcorr::app {

inline constexpr int kExitOk = 0;           // finished; no detection, or detections without --exit-code
inline constexpr int kExitDetections = 1;   // finished with detections and --exit-code was given
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitRules = 3;        // rules failed to load or their tests failed
inline constexpr int kExitInput = 4;        // an input could not be read, or had problems under --strict
inline constexpr int kExitInternal = 70;    // an unexpected internal error (EX_SOFTWARE)

}  // namespace jcorr::app
