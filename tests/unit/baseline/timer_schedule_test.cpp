// Time spans and calendar events reduced to their shortest interval.
#include <catch2/catch.hpp>

#include "jcorr/baseline/timer_schedule.h"

namespace jcorr::baseline {

namespace {
constexpr std::uint64_t kSec = kUsecPerSec;
constexpr std::uint64_t kMin = 60 * kSec;
constexpr std::uint64_t kHour = 60 * kMin;
constexpr std::uint64_t kDay = 24 * kHour;
}  // namespace

TEST_CASE("time spans parse like systemd's parse_sec", "[baseline][schedule]") {
  struct Case {
    std::string text;
    std::optional<std::uint64_t> usec;
  };
  const std::vector<Case> cases = {
      {"30s", 30 * kSec},
      {"30", 30 * kSec},
      {"1min", kMin},
      {"1m", kMin},
      {"2m 30s", 150 * kSec},
      {"2m30s", 150 * kSec},
      {"100ms", 100'000},
      {"5us", 5},
      {"1.5h", 90 * kMin},
      {".5s", 500'000},
      {"1h 30min 10s", kHour + 30 * kMin + 10 * kSec},
      {"2 days", 2 * kDay},
      {"1w", 7 * kDay},
      {"1M", 2629800 * kSec},
      {"1y", 31557600 * kSec},
      {"  15 min  ", 15 * kMin},
      {"infinity", kUsecInfinity},
      {"", std::nullopt},
      {"-5s", std::nullopt},
      {"5 parsecs", std::nullopt},
      {"12.34.56", std::nullopt},
      {"3.s", std::nullopt},
      {"abc", std::nullopt},
      {"99999999999999999999s", std::nullopt},
  };
  for (const Case& c : cases) {
    SECTION("'" + c.text + "'") { CHECK(parse_time_span_usec(c.text) == c.usec); }
  }
}

TEST_CASE("time spans format like systemd", "[baseline][schedule]") {
  CHECK(format_time_span(90 * kSec) == "1min 30s");
  CHECK(format_time_span(5 * kMin) == "5min");
  CHECK(format_time_span(100'000) == "100ms");
  CHECK(format_time_span(kDay + kHour) == "1d 1h");
  CHECK(format_time_span(0) == "0");
  CHECK(format_time_span(kUsecInfinity) == "infinity");
}

TEST_CASE("calendar events reduce to their shortest interval", "[baseline][schedule]") {
  struct Case {
    std::string text;
    std::optional<std::uint64_t> interval;
  };
  const std::vector<Case> cases = {
      {"minutely", kMin},
      {"MINUTELY", kMin},
      {"hourly", kHour},
      {"daily", kDay},
      {"weekly", kDay},  // a restricted date is counted as at least a day apart
      {"monthly", kDay},
      {"*:*:*", kSec},
      {"*:*", kMin},
      {"*-*-* *:*:00", kMin},
      {"*:0/5", 5 * kMin},
      {"*:0/2", 2 * kMin},
      {"*:00/15:00", 15 * kMin},
      {"*:*/10", 10 * kMin},
      {"*-*-* *:*:0/30", 30 * kSec},
      {"*:*:*/0.5", 500'000},
      {"*-*-* 02:30:00", kDay},
      {"Mon..Fri 09:00", kDay},
      {"Mon *-*-* 10:00,02", 2 * kMin},
      {"*-*-* 08..10:00", kHour},
      {"*-*-* 0,23:59,01:00", 2 * kMin},  // 23:59 and 00:01 are two minutes apart over midnight
      {"Sat 0,23:59,01:00", 58 * kMin},   // one weekday: no gap across midnight counts
      {"*-*-* *:00:00 UTC", kHour},
      {"*-*-* *:00:00 Europe/Berlin", kHour},
      {"2030-01-01 00:00:00", std::nullopt},
      {"2030-01-01 00:00,30", 30 * kMin},
      {"*-02~03 00:00", kDay},
      {"@1700000000", std::nullopt},
      {"12:00", kDay},
  };
  for (const Case& c : cases) {
    SECTION(c.text) {
      std::string why;
      const auto spec = parse_calendar(c.text, &why);
      INFO(why);
      REQUIRE(spec);
      CHECK(spec->min_interval_usec == c.interval);
    }
  }
}

TEST_CASE("calendar events that are not in the grammar are refused", "[baseline][schedule]") {
  for (const std::string text : {"", "every five minutes", "*:61", "25:00", "*-13-01", "*:0/0", "1..", "12",
                                 "*-*-* 00:00 UTC extra", "@"}) {
    SECTION("'" + text + "'") {
      std::string why;
      CHECK_FALSE(parse_calendar(text, &why));
      CHECK_FALSE(why.empty());
    }
  }
}

}  // namespace jcorr::baseline
