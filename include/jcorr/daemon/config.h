// The daemon's configuration file (JSON): what to follow, which rules, where state and
// detections go, the metrics address, the watermark and the caps.
//
// Parsing is pure (text in, value and diagnostics out) and reports every problem at
// once as core::Diagnostic with the file, the JSON pointer, line:col and a stable code
// from config_codes below; nothing throws. Relative paths are resolved against the
// directory of the configuration file. docs/daemon.md documents every key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/core/correlator.h"
#include "jcorr/core/diagnostic.h"
#include "jcorr/core/rule_loader.h"
#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace config_codes {
inline constexpr std::string_view kUnreadable = "config.file.unreadable";
inline constexpr std::string_view kJsonSyntax = "config.json.syntax";
inline constexpr std::string_view kKeyUnknown = "config.key.unknown";
inline constexpr std::string_view kKeyMissing = "config.key.missing";
inline constexpr std::string_view kTypeMismatch = "config.type.mismatch";
inline constexpr std::string_view kValueInvalid = "config.value.invalid";
inline constexpr std::string_view kNotLoopback = "config.metrics.not_loopback";
}  // namespace config_codes

// What the daemon follows.
struct FollowSpec {
  enum class Kind { kLocal, kNamespace, kDirectory };
  Kind kind = Kind::kLocal;
  std::string name_space;  // kNamespace
  std::string directory;   // kDirectory (absolute)

  // A stable name of the followed journal ("local", "namespace:NS", "directory:/path");
  // a checkpoint taken on another journal is not used.
  std::string identity() const;
  bool operator==(const FollowSpec&) const = default;
};

struct OutputsConfig {
  bool stdout_lines = false;  // detections as JSON lines on stdout
  std::string file;           // JSON-lines file (absolute), empty for none
  std::string webhooks;       // webhook configuration file (absolute), empty for none
  bool operator==(const OutputsConfig&) const = default;
};

struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6 address
  std::uint16_t port = 9465;          // 0 picks a free port (logged)
  bool allow_non_loopback = false;    // a non-loopback address is an error unless this is set
  bool operator==(const MetricsConfig&) const = default;
};

// The timer baseline and detection enrichment (docs/baseline.md).
struct BaselineConfig {
  std::string file;                    // approved baseline (jcorr baseline scan); empty for none
  std::string root = "/";              // where this machine's unit files are (a test tree in tests)
  bool enrich = true;                  // attach what the files say to this machine's timer detections
  core::Micros rescan_interval = 100000;  // least time between two scans of the unit files
  bool operator==(const BaselineConfig&) const = default;
};

struct DaemonConfig {
  std::string origin;                // the configuration file
  std::vector<std::string> rules;    // rule files or directories; empty: the default rules path
  FollowSpec follow;
  std::string state_directory;       // checkpoint and lock; default $STATE_DIRECTORY or /var/lib/jcorr
  enum class StartAt { kTail, kHead };
  StartAt start_at = StartAt::kTail;  // where a first run (no checkpoint) starts
  OutputsConfig outputs;
  MetricsConfig metrics;
  BaselineConfig baseline;
  core::Micros lateness = 0;              // allowed lateness of entries
  bool wall_clock = true;                 // the watermark also advances with the wall clock
  core::Micros wall_clock_delay = 1000000;  // ... to now - lateness - this
  core::Micros checkpoint_interval = 1000000;  // at most one checkpoint write per interval
  core::CorrelatorOptions correlator;     // caps (lateness copied in)
  std::size_t max_pending_detections = 10000;  // refused by a sink and held for retry; reading pauses above
  std::size_t max_field_size = 64u << 10;      // bytes of a field value read from the journal
  std::int64_t regex_max_mem = core::LoadOptions{}.regex_max_mem;  // RE2 budget of one rule regex
  enum class JournalAccess { kRequire, kWarn };
  JournalAccess journal_access = JournalAccess::kRequire;  // a journal we cannot fully read: refuse or warn
  LogLevel log_level = LogLevel::kInfo;
};

struct ConfigResult {
  std::optional<DaemonConfig> config;         // set when there is no error
  std::vector<core::Diagnostic> diagnostics;  // errors and warnings
};

// Parses configuration text. origin names it in diagnostics and anchors relative paths.
// state_directory_default is used when the file names none.
ConfigResult parse_config(std::string_view text, std::string_view origin, std::string_view state_directory_default);

// Reads and parses the file at path (default state directory: $STATE_DIRECTORY, which
// systemd sets for StateDirectory=, else /var/lib/jcorr).
ConfigResult load_config_file(const std::string& path);

// "127.0.0.1:9465", "[::1]:9465".
std::string format_address(const std::string& address, std::uint16_t port);

}  // namespace jcorr::daemon
