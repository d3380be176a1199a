#include "observability/log_line.hpp"

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

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

// AppendTimestamp into an empty string.
std::string FormatTimestamp(system_clock::time_point time) {
  std::string text;
  AppendTimestamp(text, time);
  return text;
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

TEST(FormatTimestampTest, AppendTimestampAppendsWithoutQuotes) {
  std::string out = "at ";
  AppendTimestamp(out, At(sys_days{2026y / 11 / 29}, 5h + 123ms));
  EXPECT_EQ(out, "at 2026-11-29T05:00:00.123Z");
}

// The keys a line would carry for `fields`, in order; "-" for a field left out.
std::vector<std::string> LineKeys(std::initializer_list<LogField> list) {
  const LogFields fields(list.begin(), list.size());
  std::vector<std::string> keys;
  std::string scratch;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto key = LineFieldKey(fields, i, scratch);
    keys.emplace_back(key ? std::string(*key) : "-");
  }
  return keys;
}

TEST(LineFieldKeyTest, KeepsOrdinaryKeysAsTheyAre) {
  EXPECT_EQ(LineKeys({{"model", "m"}, {"status", 200}, {"", 1}}),
            (std::vector<std::string>{"model", "status", ""}));
}

TEST(LineFieldKeyTest, ReturnsAViewOfTheFieldsOwnKey) {
  const std::initializer_list<LogField> list = {{"model", "m"}};
  std::string scratch;
  const auto key = LineFieldKey(LogFields(list.begin(), list.size()), 0, scratch);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->data(), list.begin()->key.data());
}

TEST(LineFieldKeyTest, PrefixesEachReservedKey) {
  EXPECT_EQ(LineKeys({{"timestamp", 1}, {"level", 2}, {"event", 3}, {"request_id", 4}}),
            (std::vector<std::string>{"field_timestamp", "field_level", "field_event",
                                      "field_request_id"}));
}

TEST(LineFieldKeyTest, PrefixesAgainWhileTheRenamedKeyIsAnotherFieldsKey) {
  EXPECT_EQ(
      LineKeys({{"level", 1}, {"field_level", 2}, {"field_field_level", 3}}),
      (std::vector<std::string>{"field_field_field_level", "field_level", "field_field_level"}));
  // The clash is found whichever comes first.
  EXPECT_EQ(LineKeys({{"field_event", 1}, {"event", 2}}),
            (std::vector<std::string>{"field_event", "field_field_event"}));
}

TEST(LineFieldKeyTest, KeepsOnlyTheFirstOfFieldsSharingAKey) {
  EXPECT_EQ(LineKeys({{"a", 1}, {"b", 2}, {"a", 3}, {"event", 4}, {"event", 5}}),
            (std::vector<std::string>{"a", "b", "-", "field_event", "-"}));
}

TEST(LineFieldKeyTest, IsCaseSensitiveLikeJsonKeys) {
  EXPECT_EQ(LineKeys({{"Level", 1}, {"EVENT", 2}}), (std::vector<std::string>{"Level", "EVENT"}));
}

}  // namespace
}  // namespace cms::observability
