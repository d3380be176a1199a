#include "core/json_text.hpp"

#include <limits>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace cms::core {
namespace {

struct DecimalCase {
  double number;
  const char* expected;
};

TEST(AppendPlainDecimalTest, WritesShortestPlainDecimal) {
  const DecimalCase cases[] = {
      {0.7, "0.7"},       {1284.7, "1284.7"}, {100.0, "100.0"},   {0.0, "0.0"},
      {-2.5, "-2.5"},     {1e-7, "0.0000001"}, {12.3, "12.3"},    {3.0, "3.0"},
      {1e21, "1000000000000000000000.0"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendPlainDecimal(out, c.number);
    EXPECT_EQ(out, c.expected) << c.number;
  }
}

TEST(AppendPlainDecimalTest, NonFiniteBecomesNull) {
  std::string out;
  AppendPlainDecimal(out, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "null");
}

TEST(ToJsonTextTest, ObjectsKeepOrderAndRoundTrip) {
  const boost::json::object object{{"b", 1}, {"a", "x\"y\n"}, {"latency_ms", 0.5},
                                   {"list", boost::json::array{1.25, true, nullptr}}};
  const std::string text = ToJsonText(object);
  EXPECT_EQ(text, R"({"b":1,"a":"x\"y\n","latency_ms":0.5,"list":[1.25,true,null]})");
  EXPECT_EQ(boost::json::parse(text), boost::json::value(object));
}

}  // namespace
}  // namespace cms::core
