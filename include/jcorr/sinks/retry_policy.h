// When and whether a webhook delivery is tried again: how an HTTP status is classed,
// the exponential backoff with jitter between attempts, and the receiver's Retry-After
// (delta seconds or an HTTP-date, RFC 9110 section 10.2.3). Pure functions; the sender
// supplies the clock and the randomness.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jcorr::sinks {

enum class DeliveryOutcome {
  kDelivered,   // 2xx: the receiver has it; the spool file is removed
  kRetry,       // 408, 429, 5xx, timeouts, connection and TLS errors: tried again later
  kDeadLetter,  // any other status (3xx redirects are not followed, 4xx): kept for a human
};

// Classes a response status.
DeliveryOutcome classify_status(unsigned status);

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};   // delay after the first failure
  std::chrono::milliseconds max{300000};  // no delay is longer than this
};

// Returns the delay after `failures` consecutive failures (1 for the first):
// d = min(max, base * 2^(failures-1)), of which half is fixed and half scaled by
// unit_random, a number in [0, 1) ("equal jitter": never less than d/2, so many
// senders spread out without retrying at once).
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, std::uint32_t failures, double unit_random);

// Parses an HTTP-date in any of the three forms RFC 9110 requires recipients to
// accept (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94
// 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994"). Returns nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// Parses a Retry-After value into the wait from now: delta seconds ("120") or an
// HTTP-date (a date in the past means 0). Returns nullopt when the value is neither,
// in which case the caller falls back to its own backoff.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace jcorr::sinks
