#include "api/completion_response.hpp"

#include <limits>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

namespace cms::api {
namespace {

namespace json = boost::json;

core::Completion SampleCompletion() {
  core::Completion completion;
  completion.model = "claude-sonnet-4-6";
  completion.content = "Hello!";
  completion.usage = core::Usage{42, 61, 18, 0};
  completion.stop_reason = "end_turn";
  return completion;
}

TEST(RenderCompletionResponse, MatchesContractExampleExactly) {
  EXPECT_EQ(RenderCompletionResponse(SampleCompletion(), "3f8a2b1c", false, 1284.66),
            R"({"request_id":"3f8a2b1c","model":"claude-sonnet-4-6","content":"Hello!",)"
            R"("usage":{"input_tokens":42,"output_tokens":61,"cache_creation_input_tokens":18,)"
            R"("cache_read_input_tokens":0},"cached":false,"latency_ms":1284.7,)"
            R"("stop_reason":"end_turn"})");
}

TEST(RenderCompletionResponse, ParsesBackToTheSameValues) {
  core::Completion completion = SampleCompletion();
  completion.content = "line 1\nline \"2\"\t\\ caf\xc3\xa9 \xf0\x9f\x98\x80 \x01 </script>";
  completion.usage = core::Usage{1, 9'000'000'000, 3, 4};
  const json::value body =
      json::parse(RenderCompletionResponse(completion, "req-\"id\"", true, 0.04));
  const json::object& object = body.as_object();
  EXPECT_EQ(object.size(), 7u);
  EXPECT_EQ(object.at("request_id").as_string(), "req-\"id\"");
  EXPECT_EQ(object.at("model").as_string(), "claude-sonnet-4-6");
  EXPECT_EQ(std::string(object.at("content").as_string()), completion.content);
  const json::object& usage = object.at("usage").as_object();
  EXPECT_EQ(usage.at("input_tokens").as_int64(), 1);
  EXPECT_EQ(usage.at("output_tokens").as_int64(), 9'000'000'000);
  EXPECT_EQ(usage.at("cache_creation_input_tokens").as_int64(), 3);
  EXPECT_EQ(usage.at("cache_read_input_tokens").as_int64(), 4);
  EXPECT_TRUE(object.at("cached").as_bool());
  EXPECT_EQ(object.at("latency_ms").as_double(), 0.0);
  EXPECT_EQ(object.at("stop_reason").as_string(), "end_turn");
}

TEST(RenderCompletionResponse, WritesNullStopReasonWhenNoneWasSent) {
  core::Completion completion = SampleCompletion();
  completion.stop_reason.clear();
  const json::value body = json::parse(RenderCompletionResponse(completion, "r", false, 1.0));
  EXPECT_TRUE(body.as_object().at("stop_reason").is_null());
}

TEST(RenderCompletionResponse, HandlesLargeContent) {
  core::Completion completion = SampleCompletion();
  completion.content.assign(4 << 20, 'x');
  const json::value body = json::parse(RenderCompletionResponse(completion, "r", false, 1.0));
  EXPECT_EQ(body.as_object().at("content").as_string().size(), std::size_t{4} << 20);
}

struct LatencyCase {
  std::string name;
  double milliseconds;
  std::string expected;
};

class AppendLatencyMsTest : public ::testing::TestWithParam<LatencyCase> {};

TEST_P(AppendLatencyMsTest, RoundsToOneDecimalWithoutExponent) {
  std::string out;
  AppendLatencyMs(out, GetParam().milliseconds);
  EXPECT_EQ(out, GetParam().expected);
  const std::string body =
      RenderCompletionResponse(SampleCompletion(), "r", false, GetParam().milliseconds);
  EXPECT_NE(body.find(R"("latency_ms":)" + GetParam().expected + ","), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AppendLatencyMsTest,
    ::testing::Values(LatencyCase{"RoundsUp", 1284.66, "1284.7"},
                      LatencyCase{"RoundsDownToZero", 0.04, "0.0"}, LatencyCase{"Zero", 0.0, "0.0"},
                      LatencyCase{"Exact", 2.5, "2.5"}, LatencyCase{"Integral", 17.0, "17.0"},
                      LatencyCase{"CarriesIntoIntegerPart", 999.96, "1000.0"},
                      LatencyCase{"BinaryValueBelowTie", 0.35, "0.3"},
                      LatencyCase{"ExactTieToEven", 0.25, "0.2"}, LatencyCase{"Tiny", 1e-9, "0.0"},
                      LatencyCase{"LargeStaysDecimal", 1e20, "100000000000000000000.0"},
                      LatencyCase{"NegativeClampsToZero", -3.0, "0.0"},
                      LatencyCase{"NegativeZero", -0.0, "0.0"},
                      LatencyCase{"NanIsZero", std::numeric_limits<double>::quiet_NaN(), "0.0"},
                      LatencyCase{"InfinityIsZero", std::numeric_limits<double>::infinity(),
                                  "0.0"}),
    [](const ::testing::TestParamInfo<LatencyCase>& info) { return info.param.name; });

TEST(AppendLatencyMs, WritesLargestDoubleInFull) {
  std::string out;
  AppendLatencyMs(out, std::numeric_limits<double>::max());
  EXPECT_EQ(out.size(), 309u + 2u);
  EXPECT_EQ(out.substr(out.size() - 2), ".0");
  EXPECT_EQ(out.find('e'), std::string::npos);
}

}  // namespace
}  // namespace cms::api
