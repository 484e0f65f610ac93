// A webhook: detections delivered over HTTP(S) to a SIEM, chat or SOAR endpoint,
// durably and at least once. handle() stores the detection in the webhook's spool
// (spool.h: fsynced before it returns true) and wakes the sender, a thread of its own
// running Boost.Beast over Asio; it never waits for the network, so a slow or dead
// receiver grows the spool, not the engine's lag. The sender POSTs each spooled
// detection with Idempotency-Key (the detection id), X-Jcorr-Timestamp and, with a
// secret, X-Jcorr-Signature (hmac.h); removes it on 2xx; retries 408, 429, 5xx,
// timeouts and connection or TLS errors with exponential backoff and jitter, honouring
// Retry-After; and moves it to dead-letter/ with the response on any other status
// (redirects are not followed). What is in the spool when the process starts is
// delivered then. Receivers deduplicate by Idempotency-Key.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "jcorr/sinks/sink.h"
#include "jcorr/sinks/webhook_config.h"

namespace jcorr::sinks {

// Counters of one webhook, for logs and for the daemon's metrics. Totals count since
// this process opened the webhook; spool_* and dead_letter_files are levels now.
struct WebhookMetrics {
  std::string name;
  std::uint64_t accepted = 0;       // detections newly spooled by handle()
  std::uint64_t duplicates = 0;     // handle() of an id that was already spooled
  std::uint64_t filtered = 0;       // detections this webhook's filter does not want
  std::uint64_t attempts = 0;       // HTTP requests tried
  std::uint64_t delivered = 0;      // 2xx responses
  std::uint64_t retried = 0;        // attempts that failed and will be tried again
  std::uint64_t dead_lettered = 0;  // detections moved to dead-letter/
  std::uint64_t spool_full_rejections = 0;  // handle() refused: spool at its cap
  std::uint64_t spool_errors = 0;           // handle() refused: the spool could not be written
  std::uint64_t spool_files = 0;            // detections waiting now
  std::uint64_t spool_bytes = 0;
  std::uint64_t dead_letter_files = 0;
};

struct WebhookSinkOptions {
  // Receives one line per event worth telling an operator (dead letters, a full spool,
  // failures and recovery), without a trailing newline. Null: written to stderr as
  // "jcorr: webhook NAME: ...". Called from the caller's and the sender's threads.
  std::function<void(std::string_view)> log;
};

class WebhookSink final : public Sink {
 public:
  // Opens the spool (taking its lock), prepares TLS (CA, client certificate) and
  // starts the sender, which begins with what the spool already holds. Returns the
  // reason on failure.
  static std::expected<std::unique_ptr<WebhookSink>, std::string> open(WebhookConfig config,
                                                                       WebhookSinkOptions options = {});

  // Stops the sender, abandoning a request in flight (the detection stays spooled and
  // is sent again on the next start). Does not wait for delivery: see wait_idle().
  ~WebhookSink() override;
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // Spools the detection if the filter wants it and wakes the sender. Returns true
  // when it is durably spooled (or already was, or is filtered out); false when the
  // spool is full or cannot be written, which is logged and counted. Thread-safe;
  // never touches the network.
  bool handle(const core::Detection& detection) override;

  // Wakes the sender; every accepted detection is already durable.
  void flush() override;

  // Waits until the spool is empty (everything delivered or dead-lettered) or the
  // timeout passes. Returns true when it is empty.
  bool wait_idle(std::chrono::milliseconds timeout);

  // A snapshot of the counters. Thread-safe.
  WebhookMetrics metrics() const;

  const WebhookConfig& config() const;

  struct Impl;

 private:
  explicit WebhookSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::sinks
