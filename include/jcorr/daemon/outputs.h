// Where the daemon's detections go: the sinks of one configuration (sinks/sink.h) held
// together, so the daemon sees a single "accepted or not": standard output and a file as
// JSON lines (sinks::JsonLinesSink) and the webhooks of a webhook configuration file
// (sinks::WebhookSet, durable spools with their own sender threads).
//
// A JSON-lines file is opened for appending; a line that a crash left half-written at
// its end is cut off first, so every line in the file is a whole detection. flush()
// makes what was accepted durable (fflush, and fsync for a file; a webhook spool is
// durable on acceptance): the daemon calls it before every checkpoint.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/detection.h"
#include "jcorr/core/diagnostic.h"
#include "jcorr/daemon/config.h"
#include "jcorr/sinks/webhook_sink.h"

namespace jcorr::daemon {

class Logger;

class Outputs {
 public:
  struct Counters {
    std::uint64_t accepted = 0;           // detections every sink accepted
    std::uint64_t refused = 0;            // handle() calls some sink refused
    std::uint64_t write_failures = 0;     // failed writes of the JSON-lines sinks
    std::uint64_t spool_depth = 0;        // detections waiting in webhook spools
    std::uint64_t delivery_failures = 0;  // failed webhook attempts (retried or dead-lettered)
    std::uint64_t dead_lettered = 0;      // webhook deliveries given up
  };

  // Opens every configured output. Problems in the webhook configuration come back in
  // diagnostics (and make this fail); an output that cannot be opened is an error.
  static std::expected<std::unique_ptr<Outputs>, std::string> open(const OutputsConfig& config, const Logger& log,
                                                                   std::vector<core::Diagnostic>& diagnostics);
  ~Outputs();
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  // Offers d to every sink. True when all durably accepted it (after the next flush for
  // streams); false when one refused, which is logged and counted.
  bool handle(const core::Detection& d);

  // Makes everything accepted so far durable.
  void flush();

  Counters counters() const;

  // Each webhook's counters, in configuration order.
  std::vector<sinks::WebhookMetrics> webhooks() const;

 private:
  struct Impl;
  explicit Outputs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Cuts a trailing partial line (no final '\n') off the file at path, if it exists.
// Returns the number of bytes removed.
std::expected<std::uint64_t, std::string> repair_json_lines_tail(const std::string& path);

}  // namespace jcorr::daemon
