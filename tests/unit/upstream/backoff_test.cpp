#include "upstream/backoff.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace cms::upstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// A fixed "now" for every date test: Wednesday 2026-11-25 12:00:00.250 UTC (sub-second on
// purpose, to check the rounding).
system_clock::time_point Now() {
  using namespace std::chrono;
  return sys_days(year(2026) / November / 25) + hours(12) + milliseconds(250);
}

// ---- BackoffCeiling / FullJitterDelay ----------------------------------------------------

TEST(BackoffCeilingTest, DoublesFromTheBaseUpToTheMaximum) {
  const struct {
    int retry;
    int expected_ms;
  } rows[] = {{-3, 500}, {0, 500},  {1, 1000},  {2, 2000},      {3, 4000},
              {4, 8000}, {5, 8000}, {60, 8000}, {1000000, 8000}};
  for (const auto& row : rows) {
    EXPECT_EQ(BackoffCeiling(row.retry, milliseconds(500), milliseconds(8000)),
              milliseconds(row.expected_ms))
        << "retry " << row.retry;
  }
}

TEST(BackoffCeilingTest, NeverOverflowsAndHonoursOddBounds) {
  const milliseconds huge = milliseconds::max();
  EXPECT_EQ(BackoffCeiling(200, milliseconds(1), huge), huge);
  EXPECT_EQ(BackoffCeiling(62, milliseconds(1), huge), milliseconds(std::int64_t{1} << 62));
  // A base above the maximum is cut to it; a maximum that is no power-of-two multiple too.
  EXPECT_EQ(BackoffCeiling(0, milliseconds(900), milliseconds(300)), milliseconds(300));
  EXPECT_EQ(BackoffCeiling(2, milliseconds(100), milliseconds(300)), milliseconds(300));
  EXPECT_EQ(BackoffCeiling(0, milliseconds(0), milliseconds(300)), milliseconds(0));
  EXPECT_EQ(BackoffCeiling(3, milliseconds(10), milliseconds(0)), milliseconds(0));
  EXPECT_EQ(BackoffCeiling(3, milliseconds(-10), milliseconds(100)), milliseconds(0));
}

TEST(FullJitterDelayTest, MapsTheDrawOntoEveryWholeMillisecondUpToTheCeiling) {
  const struct {
    int retry;
    double draw;
    int expected_ms;
  } rows
      [] =
          {
              {0, 0.0, 0},    {0, 0.5, 250},       {0, 0.999999, 500}, {1, 0.5, 500},
              {1, 0.25, 250}, {2, 0.999999, 2000}, {9, 0.5, 4000},     {0, 0.002, 1},
              {0, 0.0019, 0},  // Below 1/501: still the first of the 501 values.
          };
  for (const auto& row : rows) {
    EXPECT_EQ(FullJitterDelay(row.retry, milliseconds(500), milliseconds(8000), row.draw),
              milliseconds(row.expected_ms))
        << "retry " << row.retry << " draw " << row.draw;
  }
}

TEST(FullJitterDelayTest, ClampsDrawsOutsideTheUnitInterval) {
  const milliseconds base(100);
  const milliseconds max(1000);
  EXPECT_EQ(FullJitterDelay(0, base, max, -0.5), milliseconds(0));
  EXPECT_EQ(FullJitterDelay(0, base, max, std::numeric_limits<double>::quiet_NaN()),
            milliseconds(0));
  EXPECT_EQ(FullJitterDelay(0, base, max, 1.0), milliseconds(100));
  EXPECT_EQ(FullJitterDelay(0, base, max, 7.0), milliseconds(100));
  EXPECT_EQ(FullJitterDelay(0, milliseconds(0), max, 0.7), milliseconds(0));
}

TEST(SystemRandomSourceTest, DrawsStayInTheUnitIntervalAndVary) {
  SystemRandomSource random;
  double low = 1.0;
  double high = 0.0;
  for (int i = 0; i < 1000; ++i) {
    const double draw = random.Uniform01();
    ASSERT_GE(draw, 0.0);
    ASSERT_LT(draw, 1.0);
    low = std::min(low, draw);
    high = std::max(high, draw);
  }
  // 1000 uniform draws all within one half has probability 2^-999.
  EXPECT_LT(low, 0.5);
  EXPECT_GE(high, 0.5);
}

// ---- ParseRetryAfter ----------------------------------------------------------------------

struct RetryAfterCase {
  const char* name;
  const char* value;
  std::optional<std::int64_t> expected_ms;
};

class ParseRetryAfterTest : public ::testing::TestWithParam<RetryAfterCase> {};

TEST_P(ParseRetryAfterTest, ParsesOrRejects) {
  const RetryAfterCase& row = GetParam();
  const std::optional<milliseconds> parsed = ParseRetryAfter(row.value, Now());
  if (row.expected_ms) {
    ASSERT_TRUE(parsed.has_value()) << row.value;
    EXPECT_EQ(parsed->count(), *row.expected_ms) << row.value;
  } else {
    EXPECT_FALSE(parsed.has_value()) << row.value << " gave " << parsed->count();
  }
}

constexpr std::int64_t kDayMs = 86'400'000;

INSTANTIATE_TEST_SUITE_P(
    Table, ParseRetryAfterTest,
    ::testing::Values(
        // delay-seconds
        RetryAfterCase{"Zero", "0", 0}, RetryAfterCase{"One", "1", 1000},
        RetryAfterCase{"Minute", "60", 60000}, RetryAfterCase{"LeadingZeros", "007", 7000},
        RetryAfterCase{"Spaces", " \t30 ", 30000}, RetryAfterCase{"Decimal", "1.5", 1500},
        RetryAfterCase{"DecimalMs", "0.010", 10}, RetryAfterCase{"SubMsRoundsUp", "0.0001", 1},
        RetryAfterCase{"SubMsZerosExact", "2.5000000", 2500},
        RetryAfterCase{"ManyDecimals", "0.1234", 124},
        RetryAfterCase{"OneDayExact", "86400", kDayMs},
        RetryAfterCase{"JustOverADaySaturates", "86400.001", kDayMs},
        RetryAfterCase{"HugeSaturates", "99999999999999999999999999", kDayMs},
        // rejected
        RetryAfterCase{"Empty", "", std::nullopt}, RetryAfterCase{"Blank", "   ", std::nullopt},
        RetryAfterCase{"Negative", "-1", std::nullopt}, RetryAfterCase{"Plus", "+5", std::nullopt},
        RetryAfterCase{"TrailingDot", "5.", std::nullopt},
        RetryAfterCase{"LeadingDot", ".5", std::nullopt},
        RetryAfterCase{"TwoDots", "1.2.3", std::nullopt},
        RetryAfterCase{"Exponent", "1e3", std::nullopt},
        RetryAfterCase{"Unit", "10s", std::nullopt},
        RetryAfterCase{"InnerSpace", "1 0", std::nullopt},
        RetryAfterCase{"Garbage", "soon", std::nullopt},
        RetryAfterCase{"Infinity", "inf", std::nullopt},
        RetryAfterCase{"Hex", "0x10", std::nullopt},
        // HTTP-date, IMF-fixdate; now is Wed, 25 Nov 2026 12:00:00.250 GMT
        RetryAfterCase{"DateFuture", "Wed, 25 Nov 2026 12:00:30 GMT", 29750},
        RetryAfterCase{"DateNextDay", "Thu, 26 Nov 2026 12:00:00 GMT", kDayMs - 250},
        RetryAfterCase{"DateSameSecondIsPast", "Wed, 25 Nov 2026 12:00:00 GMT", 0},
        RetryAfterCase{"DatePast", "Sun, 06 Nov 1994 08:49:37 GMT", 0},
        RetryAfterCase{"DateFarFutureSaturates", "Fri, 01 Jan 2100 00:00:00 GMT", kDayMs},
        RetryAfterCase{"DateLeapDay", "Mon, 29 Feb 2028 00:00:00 GMT", kDayMs},
        RetryAfterCase{"DateWeekdayNotCrossChecked", "Mon, 25 Nov 2026 12:00:01 GMT", 750},
        // HTTP-date, obsolete forms
        RetryAfterCase{"Rfc850Future", "Wednesday, 25-Nov-26 12:01:00 GMT", 59750},
        RetryAfterCase{"Rfc850Past", "Sunday, 06-Nov-94 08:49:37 GMT", 0},
        RetryAfterCase{"AsctimeFuture", "Wed Nov 25 12:00:10 2026", 9750},
        RetryAfterCase{"AsctimeSpacePaddedDay", "Sun Nov  6 08:49:37 1994", 0},
        // impossible or malformed dates
        RetryAfterCase{"Feb30", "Mon, 30 Feb 2027 00:00:00 GMT", std::nullopt},
        RetryAfterCase{"NotLeapYear", "Mon, 29 Feb 2027 00:00:00 GMT", std::nullopt},
        RetryAfterCase{"Hour25", "Wed, 25 Nov 2026 25:00:00 GMT", std::nullopt},
        RetryAfterCase{"Minute60", "Wed, 25 Nov 2026 12:60:00 GMT", std::nullopt},
        RetryAfterCase{"NotGmt", "Wed, 25 Nov 2026 12:00:30 UTC", std::nullopt},
        RetryAfterCase{"LowercaseMonth", "Wed, 25 nov 2026 12:00:30 GMT", std::nullopt},
        RetryAfterCase{"BadMonth", "Wed, 25 Foo 2026 12:00:30 GMT", std::nullopt},
        RetryAfterCase{"OneDigitDay", "Wed, 5 Nov 2026 12:00:30 GMT", std::nullopt},
        RetryAfterCase{"TrailingText", "Wed, 25 Nov 2026 12:00:30 GMT+1", std::nullopt},
        RetryAfterCase{"Iso8601", "2026-11-25T12:00:30Z", std::nullopt}),
    [](const ::testing::TestParamInfo<RetryAfterCase>& info) { return info.param.name; });

TEST(ParseRetryAfterRfc850Test, TwoDigitYearsMoreThanFiftyYearsAheadAreLastCentury) {
  using namespace std::chrono;
  // From 2026: "76" is 2076 (50 years ahead, kept); "77" would be 2077, so it is 1977.
  EXPECT_EQ(ParseRetryAfter("Friday, 01-Jan-76 00:00:00 GMT", Now()), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Saturday, 01-Jan-77 00:00:00 GMT", Now()), milliseconds(0));
}

}  // namespace
}  // namespace cms::upstream
