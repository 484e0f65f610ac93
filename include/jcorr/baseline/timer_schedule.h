// How often a timer fires: systemd time spans (OnUnitActiveSec=2m 30s) and calendar
// events (OnCalendar=*:0/5), reduced to the shortest interval between two firings.
//
// Time spans follow systemd's parse_sec(): numbers (with optional fraction) each
// followed by an optional unit (us, ms, s/sec/seconds, m/min/minutes, h/hr/hours,
// d/days, w/weeks, M/months = 30.44 d, y/years = 365.25 d; no unit means seconds),
// summed ("1h 30min", "2m30s"), or "infinity". Calendar events follow systemd's
// calendar-spec grammar: the shortcuts (minutely, hourly, daily, weekly, monthly,
// yearly/annually, quarterly, semiannually), "[Weekday] [Year-]Month-Day Hour:Minute[:Second]
// [Timezone]" where each field is "*", a value, a list "a,b", a range "a..b" or a
// repetition "a/n" or "*/n", "~" last-day forms and "@epoch". The interval is computed
// from the time-of-day fields exactly; date and weekday fields only decide whether the
// gap across midnight counts, so a restricted date never makes a timer look more
// frequent than it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jcorr::baseline {

inline constexpr std::uint64_t kUsecPerSec = 1'000'000;
inline constexpr std::uint64_t kUsecInfinity = UINT64_MAX;

// Parses a systemd time span into microseconds; "infinity" gives kUsecInfinity. Returns
// nullopt for anything systemd would reject (empty, negative, unknown unit, overflow).
std::optional<std::uint64_t> parse_time_span_usec(std::string_view text);

// Renders microseconds the way systemd prints spans: "1min 30s", "100ms", "infinity".
std::string format_time_span(std::uint64_t usec);

// What jcorr understood of one OnCalendar= value.
struct CalendarSpec {
  std::string normalized;  // the value with a shortcut expanded ("minutely" -> "*-*-* *:*:00")
  // The shortest time between two consecutive firings, in microseconds; nullopt when the
  // event fires at most once (e.g. "@1700000000" or a fixed date with one time).
  std::optional<std::uint64_t> min_interval_usec;
};

// Parses an OnCalendar= value. Returns nullopt with why set when the value is not in
// the grammar above.
std::optional<CalendarSpec> parse_calendar(std::string_view text, std::string* why = nullptr);

}  // namespace jcorr::baseline
