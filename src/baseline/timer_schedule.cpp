#include "jcorr/baseline/timer_schedule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace jcorr::baseline {
namespace {

constexpr std::string_view kBlanks = " \t\n\r";
constexpr std::uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr std::uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr std::uint64_t kUsecPerDay = 24 * kUsecPerHour;

std::string_view strip(std::string_view s) {
  const auto first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// systemd's extract_multiplier(): the table order matters ("ms" before "m", "min" before "m").
std::size_t extract_multiplier(std::string_view p, std::uint64_t& multiplier) {
  struct Unit {
    std::string_view suffix;
    std::uint64_t usec;
  };
  static constexpr std::array<Unit, 30> kUnits = {{
      {"seconds", kUsecPerSec},       {"second", kUsecPerSec},        {"sec", kUsecPerSec},
      {"s", kUsecPerSec},             {"minutes", kUsecPerMinute},    {"minute", kUsecPerMinute},
      {"min", kUsecPerMinute},        {"months", 2629800 * kUsecPerSec}, {"month", 2629800 * kUsecPerSec},
      {"M", 2629800 * kUsecPerSec},   {"msec", 1000},                 {"ms", 1000},
      {"m", kUsecPerMinute},          {"hours", kUsecPerHour},        {"hour", kUsecPerHour},
      {"hr", kUsecPerHour},           {"h", kUsecPerHour},            {"days", kUsecPerDay},
      {"day", kUsecPerDay},           {"d", kUsecPerDay},             {"weeks", 7 * kUsecPerDay},
      {"week", 7 * kUsecPerDay},      {"w", 7 * kUsecPerDay},         {"years", 31557600 * kUsecPerSec},
      {"year", 31557600 * kUsecPerSec}, {"y", 31557600 * kUsecPerSec}, {"usec", 1},
      {"us", 1},                      {"\xCE\xBCs", 1},               {"\xC2\xB5s", 1},
  }};
  for (const Unit& unit : kUnits) {
    if (p.starts_with(unit.suffix)) {
      multiplier = unit.usec;
      return unit.suffix.size();
    }
  }
  return 0;
}

// --- calendar events ------------------------------------------------------------------

struct Item {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t step = 0;  // 0: a single value or a plain range (step = unit)
};

struct Field {
  std::vector<Item> items;
  bool star = false;    // exactly "*": every value
  bool single = false;  // exactly one fixed value
};

constexpr std::array<std::string_view, 7> kWeekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kWeekdaysLong = {"monday", "tuesday", "wednesday", "thursday",
                                                           "friday", "saturday", "sunday"};

// Parses a number of the field; for seconds (scale = 1e6) a fraction of up to six
// digits is allowed. Returns false when text is not a number.
bool parse_number(std::string_view text, std::uint64_t scale, std::uint64_t& out) {
  if (text.empty()) return false;
  std::size_t i = 0;
  std::uint64_t whole = 0;
  while (i < text.size() && is_digit(text[i])) {
    whole = whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (whole > 100000) return false;
    ++i;
  }
  if (i == 0) return false;
  std::uint64_t frac = 0;
  if (i < text.size() && text[i] == '.' && scale > 1) {
    ++i;
    std::uint64_t m = scale / 10;
    const std::size_t digits_start = i;
    while (i < text.size() && is_digit(text[i])) {
      frac += static_cast<std::uint64_t>(text[i] - '0') * m;
      m /= 10;
      ++i;
    }
    if (i == digits_start) return false;
  }
  if (i != text.size()) return false;
  out = whole * scale + frac;
  return true;
}

bool parse_weekday(std::string_view text, std::uint64_t& out) {
  const std::string l = lower(text);
  for (std::size_t i = 0; i < kWeekdays.size(); ++i) {
    if (l == kWeekdays[i] || l == kWeekdaysLong[i]) {
      out = i;
      return true;
    }
  }
  return false;
}

// Parses one field: comma-separated items, each "*", "*/n", "a", "a/n", "a..b" or
// "a..b/n", with values in [min, max] (already scaled).
std::optional<Field> parse_field(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t scale,
                                 bool weekday, std::string& why) {
  Field field;
  if (text.empty()) {
    why = "empty field";
    return std::nullopt;
  }
  field.star = text == "*";
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item_text = text.substr(pos, comma - pos);
    pos = comma + 1;
    Item item;
    std::string_view repeat;
    if (const auto slash = item_text.find('/'); slash != std::string_view::npos) {
      repeat = item_text.substr(slash + 1);
      item_text = item_text.substr(0, slash);
      if (!parse_number(repeat, scale, item.step) || item.step == 0) {
        why = "bad repetition '" + std::string(repeat) + "'";
        return std::nullopt;
      }
    }
    auto value = [&](std::string_view v, std::uint64_t& out) {
      return weekday ? parse_weekday(v, out) : parse_number(v, scale, out);
    };
    if (item_text == "*") {
      item.start = min;
      item.end = max;
    } else if (const auto dots = item_text.find(".."); dots != std::string_view::npos) {
      if (!value(item_text.substr(0, dots), item.start) || !value(item_text.substr(dots + 2), item.end)) {
        why = "bad range '" + std::string(item_text) + "'";
        return std::nullopt;
      }
    } else {
      if (!value(item_text, item.start)) {
        why = "bad value '" + std::string(item_text) + "'";
        return std::nullopt;
      }
      item.end = repeat.empty() ? item.start : max;
    }
    if (item.start < min || item.end > max || item.start > item.end) {
      why = "value out of range in '" + std::string(text) + "'";
      return std::nullopt;
    }
    field.items.push_back(item);
    if (comma == text.size()) break;
  }
  field.single = field.items.size() == 1 && field.items[0].start == field.items[0].end;
  return field;
}

// Expands a field into its sorted values, or nullopt when there would be more than cap.
std::optional<std::vector<std::uint64_t>> expand(const Field& field, std::uint64_t unit, std::size_t cap) {
  std::vector<std::uint64_t> values;
  for (const Item& item : field.items) {
    const std::uint64_t step = item.step == 0 ? unit : item.step;
    for (std::uint64_t v = item.start; v <= item.end; v += step) {
      values.push_back(v);
      if (values.size() > cap) return std::nullopt;
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto start = s.find_first_not_of(kBlanks, i);
    if (start == std::string_view::npos) break;
    auto end = s.find_first_of(kBlanks, start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    i = end;
  }
  return out;
}

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    const auto next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

bool looks_like_weekdays(std::string_view token) {
  if (token.empty() || !std::isalpha(static_cast<unsigned char>(token[0]))) return false;
  return token.find(':') == std::string_view::npos && token.find('-') == std::string_view::npos;
}

std::string_view expand_shortcut(const std::string& l) {
  if (l == "minutely") return "*-*-* *:*:00";
  if (l == "hourly") return "*-*-* *:00:00";
  if (l == "daily") return "*-*-* 00:00:00";
  if (l == "monthly") return "*-*-01 00:00:00";
  if (l == "weekly") return "Mon *-*-* 00:00:00";
  if (l == "yearly" || l == "annually") return "*-01-01 00:00:00";
  if (l == "quarterly") return "*-01,04,07,10-01 00:00:00";
  if (l == "semiannually") return "*-01,07-01 00:00:00";
  return {};
}

}  // namespace

std::optional<std::uint64_t> parse_time_span_usec(std::string_view text) {
  const std::string_view t = strip(text);
  if (t.empty()) return std::nullopt;
  if (t == "infinity") return kUsecInfinity;
  std::uint64_t total = 0;
  bool something = false;
  std::size_t i = 0;
  for (;;) {
    while (i < t.size() && kBlanks.find(t[i]) != std::string_view::npos) ++i;
    if (i == t.size()) break;
    if (t[i] == '-') return std::nullopt;
    if (t[i] == '+') ++i;
    const std::size_t digits_start = i;
    std::uint64_t whole = 0;
    while (i < t.size() && is_digit(t[i])) {
      if (whole > (UINT64_MAX - 9) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(t[i] - '0');
      ++i;
    }
    const std::size_t e = i;
    if (e == digits_start && (e == t.size() || t[e] != '.')) return std::nullopt;
    if (e < t.size() && t[e] == '.') {
      ++i;
      while (i < t.size() && is_digit(t[i])) ++i;
    }
    std::size_t unit_pos = i;
    while (unit_pos < t.size() && kBlanks.find(t[unit_pos]) != std::string_view::npos) ++unit_pos;
    std::uint64_t multiplier = kUsecPerSec;
    const std::size_t unit_len = extract_multiplier(t.substr(unit_pos), multiplier);
    // "12.34.56" is refused, "12.34 .56" and "12.34s.56" are not (as in systemd).
    if (unit_len == 0 && unit_pos == i && i < t.size()) return std::nullopt;
    i = unit_pos + unit_len;
    if (whole != 0 && multiplier > (UINT64_MAX - 1) / whole) return std::nullopt;
    const std::uint64_t k = whole * multiplier;
    if (k >= UINT64_MAX - total) return std::nullopt;
    total += k;
    something = true;
    if (e < t.size() && t[e] == '.') {
      std::uint64_t m = multiplier / 10;
      std::size_t b = e + 1;
      for (; b < t.size() && is_digit(t[b]); ++b, m /= 10) total += static_cast<std::uint64_t>(t[b] - '0') * m;
      if (b == e + 1) return std::nullopt;
    }
  }
  if (!something) return std::nullopt;
  return total;
}

std::string format_time_span(std::uint64_t usec) {
  if (usec == kUsecInfinity) return "infinity";
  if (usec == 0) return "0";
  struct Unit {
    std::string_view suffix;
    std::uint64_t usec;
  };
  static constexpr std::array<Unit, 9> kUnits = {{{"y", 31557600 * kUsecPerSec},
                                                  {"month", 2629800 * kUsecPerSec},
                                                  {"w", 7 * kUsecPerDay},
                                                  {"d", kUsecPerDay},
                                                  {"h", kUsecPerHour},
                                                  {"min", kUsecPerMinute},
                                                  {"s", kUsecPerSec},
                                                  {"ms", 1000},
                                                  {"us", 1}}};
  std::string out;
  for (const Unit& unit : kUnits) {
    if (usec < unit.usec) continue;
    const std::uint64_t n = usec / unit.usec;
    usec %= unit.usec;
    if (!out.empty()) out += ' ';
    out += std::to_string(n);
    out += unit.suffix;
  }
  return out;
}

std::optional<CalendarSpec> parse_calendar(std::string_view text, std::string* why_out) {
  std::string why;
  auto fail = [&](std::string message) -> std::optional<CalendarSpec> {
    if (why_out != nullptr) *why_out = std::move(message);
    return std::nullopt;
  };
  CalendarSpec spec;
  const std::string_view stripped = strip(text);
  if (stripped.empty()) return fail("empty calendar event");
  if (stripped.front() == '@') {
    std::uint64_t epoch = 0;
    if (!parse_number(stripped.substr(1), 1, epoch) && stripped.size() > 1) {
      // Large epochs exceed parse_number's guard; accept any run of digits.
      if (!std::all_of(stripped.begin() + 1, stripped.end(), is_digit)) return fail("bad epoch value");
    } else if (stripped.size() == 1) {
      return fail("bad epoch value");
    }
    spec.normalized = std::string(stripped);
    return spec;
  }
  const std::string_view shortcut = expand_shortcut(lower(stripped));
  spec.normalized = std::string(shortcut.empty() ? stripped : shortcut);

  std::vector<std::string_view> tokens = split_blanks(spec.normalized);
  std::size_t t = 0;
  std::size_t weekday_count = 7;
  if (t < tokens.size() && looks_like_weekdays(tokens[t]) && tokens.size() > 1) {
    const auto days = parse_field(tokens[t], 0, 6, 1, true, why);
    if (!days) return fail("weekday: " + why);
    const auto values = expand(*days, 1, 7);
    weekday_count = values ? values->size() : 7;
    ++t;
  } else if (t < tokens.size() && tokens.size() == 1 && looks_like_weekdays(tokens[t])) {
    const auto days = parse_field(tokens[t], 0, 6, 1, true, why);
    if (!days) return fail("not a calendar event: " + why);
    const auto values = expand(*days, 1, 7);
    weekday_count = values ? values->size() : 7;
    ++t;
  }
  bool date_unrestricted = weekday_count == 7;
  bool date_fixed = false;
  if (t < tokens.size() && tokens[t].find(':') == std::string_view::npos &&
      tokens[t].find('-') != std::string_view::npos) {
    const std::string_view date = tokens[t++];
    // "MONTH~DAY" counts days from the end of the month; it only changes which days match.
    const bool last_day = date.find('~') != std::string_view::npos;
    std::vector<std::string_view> parts;
    for (std::string_view part : split_on(date, '-')) {
      const auto tilde = part.find('~');
      if (tilde == std::string_view::npos) {
        parts.push_back(part);
      } else {
        parts.push_back(part.substr(0, tilde));
        parts.push_back(part.substr(tilde + 1));
      }
    }
    if (parts.size() != 2 && parts.size() != 3) return fail("date must be [YEAR-]MONTH-DAY");
    std::optional<Field> year;
    if (parts.size() == 3) {
      year = parse_field(parts[0], 1970, 2199, 1, false, why);
      if (!year) return fail("year: " + why);
    }
    const auto month = parse_field(parts[parts.size() - 2], 1, 12, 1, false, why);
    if (!month) return fail("month: " + why);
    const auto day = parse_field(parts.back(), 1, 31, 1, false, why);
    if (!day) return fail("day: " + why);
    date_unrestricted = date_unrestricted && !last_day && (!year || year->star) && month->star && day->star;
    date_fixed = !last_day && year && year->single && month->single && day->single;
  }
  std::vector<std::uint64_t> times{0};
  std::optional<std::uint64_t> sub_second_step;
  if (t < tokens.size() && tokens[t].find(':') != std::string_view::npos) {
    const std::vector<std::string_view> parts = split_on(tokens[t++], ':');
    if (parts.size() != 2 && parts.size() != 3) return fail("time must be HOUR:MINUTE[:SECOND]");
    const auto hour = parse_field(parts[0], 0, 23, 1, false, why);
    if (!hour) return fail("hour: " + why);
    const auto minute = parse_field(parts[1], 0, 59, 1, false, why);
    if (!minute) return fail("minute: " + why);
    Field second;
    if (parts.size() == 3) {
      const auto parsed = parse_field(parts[2], 0, 60 * kUsecPerSec - 1, kUsecPerSec, false, why);
      if (!parsed) return fail("second: " + why);
      second = *parsed;
    } else {
      second.items.push_back(Item{0, 0, 0});
    }
    for (const Item& item : second.items)
      if (item.step != 0 && item.step < kUsecPerSec / 10 && item.end - item.start >= item.step)
        sub_second_step = std::min(sub_second_step.value_or(item.step), item.step);
    const auto hours = expand(*hour, 1, 24);
    const auto minutes = expand(*minute, 1, 60);
    const auto seconds = sub_second_step ? std::optional<std::vector<std::uint64_t>>(std::vector<std::uint64_t>{0})
                                         : expand(second, kUsecPerSec, 600);
    if (!hours || !minutes || !seconds) return fail("too many values");
    times.clear();
    for (const std::uint64_t h : *hours)
      for (const std::uint64_t m : *minutes)
        for (const std::uint64_t s : *seconds) times.push_back(h * kUsecPerHour + m * kUsecPerMinute + s);
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
  }
  // Anything left is a timezone ("UTC", "Europe/Berlin"); it does not change intervals.
  if (t == 0) return fail("not a calendar event");
  if (tokens.size() - t > 1) return fail("unexpected '" + std::string(tokens[t + 1]) + "'");
  if (t < tokens.size() && (is_digit(tokens[t][0]) || tokens[t][0] == '*'))
    return fail("unexpected '" + std::string(tokens[t]) + "'");
  if (sub_second_step) {
    spec.min_interval_usec = *sub_second_step;
    return spec;
  }
  std::optional<std::uint64_t> gap;
  for (std::size_t i = 1; i < times.size(); ++i) gap = std::min(gap.value_or(UINT64_MAX), times[i] - times[i - 1]);
  if (date_unrestricted) gap = std::min(gap.value_or(UINT64_MAX), kUsecPerDay - times.back() + times.front());
  else if (!date_fixed && !gap) gap = kUsecPerDay;  // at least a day apart; a lower bound
  spec.min_interval_usec = gap;
  return spec;
}

}  // namespace jcorr::baseline
