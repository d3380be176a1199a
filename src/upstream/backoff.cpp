#include "upstream/backoff.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace cms::upstream {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kMaxRetryAfterMs = kMaxRetryAfter.count();

// ---- delay-seconds ----------------------------------------------------------------------

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "<digits>[.<digits>]" as milliseconds, rounded up and saturated at kMaxRetryAfter.
std::optional<milliseconds> ParseDelaySeconds(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || !std::all_of(whole.begin(), whole.end(), IsDigit)) return std::nullopt;
  if (dot != std::string_view::npos &&
      (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), IsDigit))) {
    return std::nullopt;
  }
  std::int64_t seconds = 0;
  for (const char c : whole) {
    seconds = seconds * 10 + (c - '0');
    // Past the cap already: the remaining digits can only make it larger.
    if (seconds > kMaxRetryAfterMs / 1000) return kMaxRetryAfter;
  }
  std::int64_t millis = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  // Anything below a millisecond rounds up: never retry sooner than asked.
  if (fraction.size() > 3 &&
      std::any_of(fraction.begin() + 3, fraction.end(), [](char c) { return c != '0'; })) {
    ++millis;
  }
  return milliseconds(std::min(seconds * 1000 + millis, kMaxRetryAfterMs));
}

// ---- HTTP-date --------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> kShortDays{"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the date text; every Take* consumes on success only, and a failed step
// makes the whole parse fail (the caller checks each result).
class DateReader {
 public:
  explicit DateReader(std::string_view text) : rest_(text) {}

  [[nodiscard]] bool AtEnd() const { return rest_.empty(); }

  bool Literal(std::string_view literal) {
    if (!rest_.starts_with(literal)) return false;
    rest_.remove_prefix(literal.size());
    return true;
  }

  // Exactly `count` digits.
  std::optional<int> Digits(std::size_t count) {
    if (rest_.size() < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (!IsDigit(rest_[i])) return std::nullopt;
      value = value * 10 + (rest_[i] - '0');
    }
    rest_.remove_prefix(count);
    return value;
  }

  // One of `names` (case-sensitive, as RFC 9110 requires); its index.
  template <std::size_t N>
  std::optional<unsigned> Name(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
      if (Literal(names[i])) return static_cast<unsigned>(i);
    }
    return std::nullopt;
  }

 private:
  std::string_view rest_;
};

struct DateParts {
  int year = 0;
  unsigned month = 0;  // 1-12.
  unsigned day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "HH:MM:SS" into `parts`.
bool ReadTime(DateReader& reader, DateParts& parts) {
  const auto hour = reader.Digits(2);
  if (!hour || !reader.Literal(":")) return false;
  const auto minute = reader.Digits(2);
  if (!minute || !reader.Literal(":")) return false;
  const auto second = reader.Digits(2);
  // 60 allows a leap second, as the HTTP grammar does.
  if (!second || *hour > 23 || *minute > 59 || *second > 60) return false;
  parts.hour = *hour;
  parts.minute = *minute;
  parts.second = *second;
  return true;
}

bool ReadMonth(DateReader& reader, DateParts& parts) {
  const auto month = reader.Name(kMonths);
  if (!month) return false;
  parts.month = *month + 1;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<DateParts> ParseImfFixdate(std::string_view text) {
  DateReader reader(text);
  DateParts parts;
  if (!reader.Name(kShortDays) || !reader.Literal(", ")) return std::nullopt;
  const auto day = reader.Digits(2);
  if (!day || !reader.Literal(" ") || !ReadMonth(reader, parts) || !reader.Literal(" ")) {
    return std::nullopt;
  }
  const auto year = reader.Digits(4);
  if (!year || !reader.Literal(" ") || !ReadTime(reader, parts) || !reader.Literal(" GMT") ||
      !reader.AtEnd()) {
    return std::nullopt;
  }
  parts.day = static_cast<unsigned>(*day);
  parts.year = *year;
  return parts;
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<DateParts> ParseRfc850(std::string_view text, int current_year) {
  DateReader reader(text);
  DateParts parts;
  if (!reader.Name(kLongDays) || !reader.Literal(", ")) return std::nullopt;
  const auto day = reader.Digits(2);
  if (!day || !reader.Literal("-") || !ReadMonth(reader, parts) || !reader.Literal("-")) {
    return std::nullopt;
  }
  const auto two_digit_year = reader.Digits(2);
  if (!two_digit_year || !reader.Literal(" ") || !ReadTime(reader, parts) ||
      !reader.Literal(" GMT") || !reader.AtEnd()) {
    return std::nullopt;
  }
  parts.day = static_cast<unsigned>(*day);
  // RFC 9110 section 5.6.7: a year more than 50 years in the future is in the past century.
  int year = current_year - current_year % 100 + *two_digit_year;
  if (year > current_year + 50) year -= 100;
  parts.year = year;
  return parts;
}

// "Sun Nov  6 08:49:37 1994" (the day is space-padded).
std::optional<DateParts> ParseAsctime(std::string_view text) {
  DateReader reader(text);
  DateParts parts;
  if (!reader.Name(kShortDays) || !reader.Literal(" ") || !ReadMonth(reader, parts) ||
      !reader.Literal(" ")) {
    return std::nullopt;
  }
  std::optional<int> day;
  if (reader.Literal(" ")) {
    day = reader.Digits(1);
  } else {
    day = reader.Digits(2);
  }
  if (!day || !reader.Literal(" ") || !ReadTime(reader, parts) || !reader.Literal(" ")) {
    return std::nullopt;
  }
  const auto year = reader.Digits(4);
  if (!year || !reader.AtEnd()) return std::nullopt;
  parts.day = static_cast<unsigned>(*day);
  parts.year = *year;
  return parts;
}

std::optional<std::chrono::sys_seconds> ToTimePoint(const DateParts& parts) {
  const std::chrono::year_month_day date{
      std::chrono::year(parts.year), std::chrono::month(parts.month), std::chrono::day(parts.day)};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(parts.hour) +
         std::chrono::minutes(parts.minute) + std::chrono::seconds(parts.second);
}

std::optional<milliseconds> ParseHttpDate(std::string_view text,
                                          std::chrono::system_clock::time_point now) {
  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
  std::optional<DateParts> parts = ParseImfFixdate(text);
  if (!parts) parts = ParseRfc850(text, static_cast<int>(today.year()));
  if (!parts) parts = ParseAsctime(text);
  if (!parts) return std::nullopt;
  const std::optional<std::chrono::sys_seconds> when = ToTimePoint(*parts);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  // Rounded up: `now` has sub-millisecond precision, the date does not need it.
  const milliseconds delay = std::chrono::ceil<milliseconds>(*when - now);
  return std::min(delay, kMaxRetryAfter);
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

SystemRandomSource::SystemRandomSource() : engine_(std::random_device{}()) {}

double SystemRandomSource::Uniform01() {
  const std::lock_guard lock(mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
}

milliseconds BackoffCeiling(int retry, milliseconds base_delay, milliseconds max_delay) {
  if (base_delay.count() <= 0 || max_delay.count() <= 0) return milliseconds(0);
  milliseconds ceiling = std::min(base_delay, max_delay);
  // Doubling stops at max_delay, so it never overflows whatever `retry` is.
  for (int i = 0; i < retry && ceiling < max_delay; ++i) {
    ceiling = ceiling > max_delay / 2 ? max_delay : ceiling * 2;
  }
  return ceiling;
}

milliseconds FullJitterDelay(int retry, milliseconds base_delay, milliseconds max_delay,
                             double uniform01) {
  const std::int64_t ceiling = BackoffCeiling(retry, base_delay, max_delay).count();
  if (!(uniform01 > 0.0)) return milliseconds(0);  // Also NaN.
  if (uniform01 >= 1.0) return milliseconds(ceiling);
  // ceiling + 1 equally likely whole values, 0 through ceiling.
  const auto chosen =
      static_cast<std::int64_t>(std::floor(uniform01 * static_cast<double>(ceiling + 1)));
  return milliseconds(std::min(chosen, ceiling));
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value,
                                            std::chrono::system_clock::time_point now) {
  const std::string_view text = TrimSpaces(value);
  if (text.empty()) return std::nullopt;
  if (IsDigit(text.front())) return ParseDelaySeconds(text);
  return ParseHttpDate(text, now);
}

}  // namespace cms::upstream
