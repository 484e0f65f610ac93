// Status classes, backoff with jitter, and Retry-After in both of its forms.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "jcorr/sinks/retry_policy.h"

using namespace std::chrono_literals;
using jcorr::sinks::BackoffPolicy;
using jcorr::sinks::DeliveryOutcome;
using jcorr::sinks::backoff_delay;
using jcorr::sinks::classify_status;
using jcorr::sinks::parse_http_date;
using jcorr::sinks::parse_retry_after;

namespace {
// 1994-11-06T08:49:37Z, RFC 9110's example date.
const auto kExample = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 37s;
}  // namespace

TEST_CASE("classify_status: 2xx delivered; 408, 429, 5xx retried; the rest dead-lettered", "[sinks][retry]") {
  struct Case {
    unsigned status;
    DeliveryOutcome outcome;
  };
  const Case cases[] = {
      {200, DeliveryOutcome::kDelivered},  {201, DeliveryOutcome::kDelivered},  {204, DeliveryOutcome::kDelivered},
      {299, DeliveryOutcome::kDelivered},  {408, DeliveryOutcome::kRetry},      {429, DeliveryOutcome::kRetry},
      {500, DeliveryOutcome::kRetry},      {502, DeliveryOutcome::kRetry},      {503, DeliveryOutcome::kRetry},
      {599, DeliveryOutcome::kRetry},      {301, DeliveryOutcome::kDeadLetter}, {302, DeliveryOutcome::kDeadLetter},
      {307, DeliveryOutcome::kDeadLetter}, {400, DeliveryOutcome::kDeadLetter}, {401, DeliveryOutcome::kDeadLetter},
      {403, DeliveryOutcome::kDeadLetter}, {404, DeliveryOutcome::kDeadLetter}, {409, DeliveryOutcome::kDeadLetter},
      {413, DeliveryOutcome::kDeadLetter}, {422, DeliveryOutcome::kDeadLetter}, {100, DeliveryOutcome::kDeadLetter},
  };
  for (const auto& c : cases) {
    INFO("status " << c.status);
    CHECK(classify_status(c.status) == c.outcome);
  }
}

TEST_CASE("backoff_delay doubles from base up to max, with equal jitter", "[sinks][retry]") {
  const BackoffPolicy p{100ms, 1000ms};
  // unit_random 0 gives the fixed half; just under 1 gives (almost) the whole delay.
  CHECK(backoff_delay(p, 1, 0.0) == 50ms);
  CHECK(backoff_delay(p, 1, 0.999999) == 99ms);
  CHECK(backoff_delay(p, 2, 0.0) == 100ms);
  CHECK(backoff_delay(p, 3, 0.0) == 200ms);
  CHECK(backoff_delay(p, 4, 0.0) == 400ms);
  CHECK(backoff_delay(p, 5, 0.0) == 500ms);  // 1600 capped to 1000
  CHECK(backoff_delay(p, 5, 0.5) == 750ms);
  CHECK(backoff_delay(p, 1000000, 0.999) <= 1000ms);  // no overflow for long outages
  CHECK(backoff_delay(p, 1000000, 0.0) == 500ms);
  CHECK(backoff_delay(p, 0, 0.0) == 50ms);
  // Out-of-range randomness is clamped.
  CHECK(backoff_delay(p, 1, -3.0) == 50ms);
  CHECK(backoff_delay(p, 1, 7.0) == 100ms);
}

TEST_CASE("parse_http_date reads the three HTTP-date forms", "[sinks][retry]") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == kExample);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == kExample);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == kExample);
  CHECK(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT ") == kExample);
  const char* bad[] = {"", "Sun, 06 Nov 1994 08:49:37",  "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
                       "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                       "Sun Nov 6 08:49:37 1994", "yesterday", "Sun, 06 Nov 1994 08:49:37 GMT trailing"};
  for (const char* b : bad) {
    INFO("\"" << b << "\"");
    CHECK_FALSE(parse_http_date(b).has_value());
  }
}

TEST_CASE("parse_retry_after: delta seconds or an HTTP-date relative to now", "[sinks][retry]") {
  const auto now = kExample;
  CHECK(parse_retry_after("120", now) == std::optional(120s));
  CHECK(parse_retry_after(" 0 ", now) == std::optional(0s));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now) == std::optional(60s));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now) == std::optional(0s));  // in the past
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now) == std::optional(10s));
  CHECK(parse_retry_after("99999999999999999999999", now).value() > 1000000s);  // saturates, never wraps
  CHECK_FALSE(parse_retry_after("", now).has_value());
  CHECK_FALSE(parse_retry_after("-5", now).has_value());
  CHECK_FALSE(parse_retry_after("1.5", now).has_value());
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
  CHECK_FALSE(parse_retry_after("12s", now).has_value());
}
