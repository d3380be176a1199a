#include "observability/log_line_object.hpp"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cms::observability {
namespace {

boost::json::object Object(LogLevel level, std::string_view event, std::string_view request_id,
                           std::initializer_list<LogField> fields) {
  return LogLineObject(level, event, request_id, LogFields(fields.begin(), fields.size()));
}

std::vector<std::string> Keys(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& entry : object) keys.emplace_back(entry.key());
  return keys;
}

TEST(ToJsonValueTest, KeepsTheKindBoostJsonWouldGiveTheSameCValue) {
  EXPECT_EQ(ToJsonValue(LogValue(-5)), boost::json::value(-5));
  EXPECT_TRUE(ToJsonValue(LogValue(-5)).is_int64());
  EXPECT_TRUE(ToJsonValue(LogValue(499U)).is_uint64());
  EXPECT_EQ(ToJsonValue(LogValue(std::numeric_limits<std::uint64_t>::max())).as_uint64(),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(ToJsonValue(LogValue(std::size_t{7})).is_uint64());
  EXPECT_TRUE(ToJsonValue(LogValue(true)).is_bool());
  EXPECT_EQ(ToJsonValue(LogValue(true)).as_bool(), true);
  EXPECT_TRUE(ToJsonValue(LogValue(2.5)).is_double());
  EXPECT_EQ(ToJsonValue(LogValue(2.5)).as_double(), 2.5);
  EXPECT_TRUE(ToJsonValue(LogValue(nullptr)).is_null());
  EXPECT_EQ(ToJsonValue(LogValue("text")), boost::json::value("text"));
}

TEST(ToJsonValueTest, CopiesStrings) {
  std::string text = "before";
  const boost::json::value value = ToJsonValue(LogValue(text));
  text = "after!";
  EXPECT_EQ(value.as_string(), "before");
}

TEST(LogLineObjectTest, HoldsLevelEventRequestIdThenFieldsInOrder) {
  const auto line = Object(LogLevel::kWarning, "cache_miss", "r1", {{"z", 1}, {"a", "x"}});
  EXPECT_EQ(Keys(line), (std::vector<std::string>{"level", "event", "request_id", "z", "a"}));
  EXPECT_EQ(line.at("level"), "WARNING");
  EXPECT_EQ(line.at("event"), "cache_miss");
  EXPECT_EQ(line.at("request_id"), "r1");
  EXPECT_EQ(line.at("z").as_int64(), 1);
  EXPECT_EQ(line.at("a"), "x");
}

TEST(LogLineObjectTest, OmitsAnEmptyRequestId) {
  EXPECT_EQ(Keys(Object(LogLevel::kInfo, "e", "", {})),
            (std::vector<std::string>{"level", "event"}));
}

TEST(LogLineObjectTest, AppliesTheKeyRulesOfTheLine) {
  const auto line = Object(LogLevel::kInfo, "e", "r",
                           {{"event", "inner"}, {"field_event", "own"}, {"n", 1}, {"n", 2}});
  EXPECT_EQ(Keys(line), (std::vector<std::string>{"level", "event", "request_id",
                                                  "field_field_event", "field_event", "n"}));
  EXPECT_EQ(line.at("event"), "e");
  EXPECT_EQ(line.at("field_field_event"), "inner");
  EXPECT_EQ(line.at("n").as_int64(), 1);  // The first of a repeated key, as Boost.JSON keeps.
}

TEST(LogLineObjectTest, DropsRepeatedKeysLikeABoostJsonObjectLiteral) {
  // What a boost::json::object field list did before fields were views.
  const boost::json::object literal{{"n", 1}, {"n", 2}};
  const auto line = Object(LogLevel::kInfo, "e", "", {{"n", 1}, {"n", 2}});
  EXPECT_EQ(line.at("n"), literal.at("n"));
}

}  // namespace
}  // namespace cms::observability
