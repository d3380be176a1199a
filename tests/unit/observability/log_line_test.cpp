#include "observability/log_line.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace cms::observability {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::sys_days;
using std::chrono::system_clock;
using namespace std::chrono_literals;

system_clock::time_point At(sys_days day, std::chrono::nanoseconds since_midnight) {
  return system_clock::time_point{
      std::chrono::duration_cast<system_clock::duration>(day.time_since_epoch() + since_midnight)};
}

TEST(FormatTimestampTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(At(sys_days{2026y / 11 / 29}, 5h + 123ms)), "2026-11-29T05:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(At(sys_days{2024y / 2 / 29}, 23h + 59min + 59s + 999ms)),
            "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(At(sys_days{2000y / 1 / 1}, 10h + 7min + 3s + 40ms)),
            "2000-01-01T10:07:03.040Z");
}

TEST(FormatTimestampTest, TruncatesSubMillisecondsInsteadOfRounding) {
  EXPECT_EQ(FormatTimestamp(At(sys_days{2026y / 12 / 31}, 23h + 59min + 59s + 999999us)),
            "2026-12-31T23:59:59.999Z");
}

TEST(AppendEventTest, AddsLevelEventRequestIdThenFields) {
  boost::json::object line;
  AppendEvent(line, LogLevel::kWarning, "cache_miss", "r1", {{"a", 1}});
  EXPECT_EQ(line,
            (boost::json::object{
                {"level", "WARNING"}, {"event", "cache_miss"}, {"request_id", "r1"}, {"a", 1}}));
  auto it = line.begin();
  EXPECT_EQ(it++->key(), "level");
  EXPECT_EQ(it++->key(), "event");
  EXPECT_EQ(it++->key(), "request_id");
  EXPECT_EQ(it++->key(), "a");
}

}  // namespace
}  // namespace cms::observability
