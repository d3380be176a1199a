#include "observability/log_field.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/core/detail/string_view.hpp>
#include <boost/json/string.hpp>
#include <gtest/gtest.h>

namespace cms::observability {
namespace {

using Kind = LogValue::Kind;

// What must not become a field silently: a pointer as a flag, a duration without its unit.
static_assert(!std::is_convertible_v<int*, LogValue>);
static_assert(!std::is_convertible_v<const void*, LogValue>);
static_assert(!std::is_convertible_v<const unsigned char*, LogValue>);
static_assert(!std::is_convertible_v<std::chrono::milliseconds, LogValue>);
// Views and tags only: copying a field list costs nothing and owns nothing.
static_assert(std::is_trivially_copyable_v<LogValue>);
static_assert(std::is_trivially_destructible_v<LogField>);

TEST(LogValueTest, StringsFromEverySpellingAreViews) {
  const std::string owned = "owned";
  const LogValue from_string(owned);
  EXPECT_EQ(from_string.kind(), Kind::kString);
  EXPECT_EQ(from_string.AsString().data(), owned.data());  // A view, not a copy.

  const LogValue from_view(std::string_view("view"));
  EXPECT_EQ(from_view.kind(), Kind::kString);
  EXPECT_EQ(from_view.AsString(), "view");

  const LogValue from_literal("literal");
  EXPECT_EQ(from_literal.kind(), Kind::kString);  // Not a bool, though a pointer could be.
  EXPECT_EQ(from_literal.AsString(), "literal");

  const boost::core::string_view beast_view("beast");  // What Beast's to_string returns.
  EXPECT_EQ(LogValue(beast_view).kind(), Kind::kString);
  EXPECT_EQ(LogValue(beast_view).AsString(), "beast");
  const boost::json::string json_string("json");
  EXPECT_EQ(LogValue(json_string).AsString().data(), json_string.data());

  const char* pointer = "pointer";
  EXPECT_EQ(LogValue(pointer).kind(), Kind::kString);
  EXPECT_EQ(LogValue("").kind(), Kind::kString);
}

TEST(LogValueTest, NullCharPointerAndNullptrAreNull) {
  const char* none = nullptr;
  EXPECT_EQ(LogValue(none).kind(), Kind::kNull);
  EXPECT_EQ(LogValue(nullptr).kind(), Kind::kNull);
  EXPECT_EQ(LogValue().kind(), Kind::kNull);
}

TEST(LogValueTest, OnlyABoolIsABool) {
  EXPECT_EQ(LogValue(true).kind(), Kind::kBool);
  EXPECT_TRUE(LogValue(true).AsBool());
  EXPECT_FALSE(LogValue(false).AsBool());
}

TEST(LogValueTest, SignedIntegersAreInt64) {
  EXPECT_EQ(LogValue(0).kind(), Kind::kInt);  // A literal 0 is a number, not null.
  EXPECT_EQ(LogValue(-7).AsInt(), -7);
  EXPECT_EQ(LogValue(static_cast<short>(-3)).AsInt(), -3);
  EXPECT_EQ(LogValue(42L).kind(), Kind::kInt);
  EXPECT_EQ(LogValue(std::numeric_limits<std::int64_t>::min()).AsInt(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(LogValue(std::chrono::milliseconds(250).count()).AsInt(), 250);
}

TEST(LogValueTest, UnsignedIntegersAreUint64) {
  EXPECT_EQ(LogValue(499U).kind(), Kind::kUint);
  EXPECT_EQ(LogValue(499U).AsUint(), 499U);
  EXPECT_EQ(LogValue(std::size_t{3}).kind(), Kind::kUint);
  EXPECT_EQ(LogValue(std::uint16_t{8080}).AsUint(), 8080U);
  EXPECT_EQ(LogValue(std::numeric_limits<std::uint64_t>::max()).AsUint(),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(LogValueTest, FloatingPointIsDouble) {
  EXPECT_EQ(LogValue(12.5).kind(), Kind::kDouble);
  EXPECT_DOUBLE_EQ(LogValue(12.5).AsDouble(), 12.5);
  EXPECT_EQ(LogValue(0.25F).kind(), Kind::kDouble);
  EXPECT_DOUBLE_EQ(LogValue(0.25F).AsDouble(), 0.25);
}

TEST(LogFieldTest, BracedPairsBuildFieldsInOrder) {
  const std::string model = "claude-sonnet-4-6";
  const std::initializer_list<LogField> list = {
      {"model", model}, {"count", std::size_t{2}}, {"stream", false}, {"latency_ms", 1.5}};
  const LogFields fields(list.begin(), list.size());
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].key, "model");
  EXPECT_EQ(fields[0].value.AsString(), model);
  EXPECT_EQ(fields[1].value.kind(), Kind::kUint);
  EXPECT_EQ(fields[2].value.kind(), Kind::kBool);
  EXPECT_EQ(fields[3].value.kind(), Kind::kDouble);
}

}  // namespace
}  // namespace cms::observability
