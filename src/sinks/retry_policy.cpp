#include "jcorr/sinks/retry_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace jcorr::sinks {

DeliveryOutcome classify_status(unsigned status) {
  if (status >= 200 && status < 300) return DeliveryOutcome::kDelivered;
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) return DeliveryOutcome::kRetry;
  return DeliveryOutcome::kDeadLetter;
}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, std::uint32_t failures, double unit_random) {
  const std::int64_t base = std::max<std::int64_t>(policy.base.count(), 1);
  const std::int64_t cap = std::max<std::int64_t>(policy.max.count(), base);
  std::int64_t d = base;
  for (std::uint32_t i = 1; i < failures && d < cap; ++i) d = d > cap / 2 ? cap : d * 2;
  d = std::min(d, cap);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const std::int64_t half = d / 2;
  return std::chrono::milliseconds(half + static_cast<std::int64_t>(static_cast<double>(d - half) * r));
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A small cursor over the date text; every read returns false on a mismatch.
struct Scanner {
  std::string_view s;
  std::size_t i = 0;

  bool literal(std::string_view lit) {
    if (s.substr(i, lit.size()) != lit) return false;
    i += lit.size();
    return true;
  }
  bool digits(std::size_t min_n, std::size_t max_n, int& out) {
    std::size_t n = 0;
    int v = 0;
    while (i + n < s.size() && n < max_n && std::isdigit(static_cast<unsigned char>(s[i + n]))) {
      v = v * 10 + (s[i + n] - '0');
      ++n;
    }
    if (n < min_n) return false;
    i += n;
    out = v;
    return true;
  }
  bool one_of(const std::string_view* names, std::size_t count, int& index) {
    for (std::size_t k = 0; k < count; ++k) {
      if (s.substr(i, names[k].size()) == names[k]) {
        i += names[k].size();
        index = static_cast<int>(k);
        return true;
      }
    }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return digits(2, 2, h) && literal(":") && digits(2, 2, m) && literal(":") && digits(2, 2, sec);
  }
  bool done() const { return i == s.size(); }
};

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};

std::optional<std::chrono::system_clock::time_point> make_time(int year, int month0, int day, int h, int m, int s) {
  if (h > 23 || m > 59 || s > 60) return std::nullopt;  // 60: a leap second, as RFC 5322 allows
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month0 + 1)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s);
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  text = trim(text);
  int wd = 0, day = 0, mon = 0, year = 0, h = 0, m = 0, s = 0;
  {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    Scanner c{text};
    if (c.one_of(kShortDays.data(), kShortDays.size(), wd) && c.literal(", ") && c.digits(2, 2, day) &&
        c.literal(" ") && c.one_of(kMonths.data(), kMonths.size(), mon) && c.literal(" ") && c.digits(4, 4, year) &&
        c.literal(" ") && c.time(h, m, s) && c.literal(" GMT") && c.done())
      return make_time(year, mon, day, h, m, s);
  }
  {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT. Two-digit years 70-99 are 19xx and
    // 00-69 are 20xx, which is RFC 9110's 50-year rule for any date sent this century.
    Scanner c{text};
    if (c.one_of(kLongDays.data(), kLongDays.size(), wd) && c.literal(", ") && c.digits(2, 2, day) &&
        c.literal("-") && c.one_of(kMonths.data(), kMonths.size(), mon) && c.literal("-") && c.digits(2, 2, year) &&
        c.literal(" ") && c.time(h, m, s) && c.literal(" GMT") && c.done())
      return make_time(year < 70 ? 2000 + year : 1900 + year, mon, day, h, m, s);
  }
  {
    // asctime: Sun Nov  6 08:49:37 1994
    Scanner c{text};
    if (c.one_of(kShortDays.data(), kShortDays.size(), wd) && c.literal(" ") &&
        c.one_of(kMonths.data(), kMonths.size(), mon) && c.literal(" ")) {
      if (c.literal(" ")) {
        if (!c.digits(1, 1, day)) return std::nullopt;
      } else if (!c.digits(2, 2, day)) {
        return std::nullopt;
      }
      if (c.literal(" ") && c.time(h, m, s) && c.literal(" ") && c.digits(4, 4, year) && c.done())
        return make_time(year, mon, day, h, m, s);
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    std::int64_t secs = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    // Absurdly large values saturate; the sender caps the wait anyway.
    if (ec == std::errc::result_out_of_range) return std::chrono::seconds(std::int64_t{1} << 40);
    if (ec != std::errc{} || p != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(secs);
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(*when - now);
}

}  // namespace jcorr::sinks
