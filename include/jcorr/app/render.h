// Human-readable views of detections and diagnostics for a terminal. Every string that
// came from a log entry is made terminal-safe first: control characters (including ESC,
// so no escape sequence reaches the terminal) and invalid UTF-8 are shown as \xNN.
#pragma once

#include <string>
#include <string_view>

#include "jcorr/core/detection.h"

namespace jcorr::app {

// Returns s with control characters, DEL and invalid UTF-8 bytes written as \xNN.
std::string terminal_safe(std::string_view s);

// One readable block per detection (title line, host, user, source, session, units,
// commands, times, evidence lines), ending with a blank line. color adds ANSI colors.
std::string render_detection(const core::Detection& d, bool color);

}  // namespace jcorr::app
