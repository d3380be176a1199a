#include "observability/log_line_text.hpp"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/json_text.hpp"
#include "observability/log_line_object.hpp"

namespace cms::observability {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-11-29T05:00:00.123Z
system_clock::time_point FixedTime() {
  return system_clock::time_point{std::chrono::seconds{1795928400} + milliseconds{123}};
}

constexpr std::string_view kPrefix = R"({"timestamp":"2026-11-29T05:00:00.123Z",)";

std::string Line(LogLevel level, std::string_view event, std::string_view request_id,
                 std::initializer_list<LogField> fields) {
  std::string out;
  AppendLogLine(out, FixedTime(), level, event, request_id,
                LogFields(fields.begin(), fields.size()));
  return out;
}

std::string ValueText(const LogValue& value) {
  std::string out;
  AppendLogValue(out, value);
  return out;
}

struct ValueCase {
  std::string name;
  LogValue value;
  std::string expected;
};

class AppendLogValueTest : public testing::TestWithParam<ValueCase> {};

TEST_P(AppendLogValueTest, WritesTheJsonTextOfEachKind) {
  EXPECT_EQ(ValueText(GetParam().value), GetParam().expected);
}

const std::string kEscapes = "q\" b\\ n\n r\r t\t x\x01 caf\xC3\xA9";

INSTANTIATE_TEST_SUITE_P(
    Table, AppendLogValueTest,
    testing::Values(
        ValueCase{"String", "claude-sonnet-4-6", R"("claude-sonnet-4-6")"},
        ValueCase{"EmptyString", "", R"("")"},
        ValueCase{"EscapedString", kEscapes,
                  R"("q\" b\\ n\n r\r t\t x\u0001 caf)"
                  "\xC3\xA9\""},
        ValueCase{"True", true, "true"}, ValueCase{"False", false, "false"},
        ValueCase{"Zero", 0, "0"}, ValueCase{"Negative", -42, "-42"},
        ValueCase{"Int64Min", std::numeric_limits<std::int64_t>::min(), "-9223372036854775808"},
        ValueCase{"Int64Max", std::numeric_limits<std::int64_t>::max(), "9223372036854775807"},
        ValueCase{"Unsigned", 499U, "499"},
        ValueCase{"Uint64Max", std::numeric_limits<std::uint64_t>::max(), "18446744073709551615"},
        ValueCase{"Fraction", 12.5, "12.5"}, ValueCase{"Latency", 1284.7, "1284.7"},
        ValueCase{"WholeDouble", 100.0, "100.0"}, ValueCase{"Tiny", 1e-7, "0.0000001"},
        ValueCase{"Big", 1e21, "1000000000000000000000.0"},
        ValueCase{"NaN", std::numeric_limits<double>::quiet_NaN(), "null"},
        ValueCase{"Infinity", std::numeric_limits<double>::infinity(), "null"},
        ValueCase{"Null", nullptr, "null"}),
    [](const testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

TEST(AppendLogLineTest, WritesTheContractShapeWithFieldsInOrder) {
  const std::string model = "claude-sonnet-4-6";
  EXPECT_EQ(Line(LogLevel::kInfo, "anthropic_response", "req-42",
                 {{"model", model},
                  {"input_tokens", std::int64_t{1234}},
                  {"cache_system", false},
                  {"message_count", std::size_t{3}},
                  {"latency_ms", 12.5}}),
            std::string(kPrefix) +
                R"("level":"INFO","event":"anthropic_response","request_id":"req-42",)"
                R"("model":"claude-sonnet-4-6","input_tokens":1234,"cache_system":false,)"
                R"("message_count":3,"latency_ms":12.5})");
}

TEST(AppendLogLineTest, NamesEachLevel) {
  EXPECT_EQ(Line(LogLevel::kDebug, "e", "", {}),
            std::string(kPrefix) + R"("level":"DEBUG","event":"e"})");
  EXPECT_EQ(Line(LogLevel::kWarning, "e", "", {}),
            std::string(kPrefix) + R"("level":"WARNING","event":"e"})");
  EXPECT_EQ(Line(LogLevel::kError, "e", "", {}),
            std::string(kPrefix) + R"("level":"ERROR","event":"e"})");
}

TEST(AppendLogLineTest, OmitsAnEmptyRequestId) {
  EXPECT_EQ(Line(LogLevel::kInfo, "service_startup", "", {{"port", 8000}}),
            std::string(kPrefix) + R"("level":"INFO","event":"service_startup","port":8000})");
}

TEST(AppendLogLineTest, EscapesEventRequestIdKeysAndValues) {
  const std::string line = Line(LogLevel::kError, "ev\"nt", "id\n1", {{"k\\ey", "v\tal"}});
  EXPECT_EQ(line, std::string(kPrefix) +
                      R"("level":"ERROR","event":"ev\"nt","request_id":"id\n1","k\\ey":"v\tal"})");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(AppendLogLineTest, RenamesReservedKeysAndDropsRepeatedOnes) {
  EXPECT_EQ(Line(LogLevel::kInfo, "e", "rid",
                 {{"timestamp", "mine"},
                  {"level", 7},
                  {"field_level", "taken"},
                  {"n", 1},
                  {"n", 2},
                  {"request_id", "y"}}),
            std::string(kPrefix) +
                R"("level":"INFO","event":"e","request_id":"rid","field_timestamp":"mine",)"
                R"("field_field_level":7,"field_level":"taken","n":1,"field_request_id":"y"})");
}

TEST(AppendLogLineTest, AppendsToWhatTheStringAlreadyHolds) {
  std::string out = "prefix ";
  AppendLogLine(out, FixedTime(), LogLevel::kInfo, "e", "", {});
  EXPECT_EQ(out, "prefix " + std::string(kPrefix) + R"("level":"INFO","event":"e"})");
}

// The text JsonLogger writes is the object MemoryLogger keeps, with the timestamp in front,
// written by the JSON writer the lines used before fields were views (core::ToJsonText):
// byte for byte, for every kind of value and every key rule.
TEST(AppendLogLineTest, MatchesTheDomLineByteForByte) {
  const std::string owned = "owned \"text\"\n";
  const std::initializer_list<LogField> list = {
      {"s", owned},
      {"sv", std::string_view("view")},
      {"lit", "literal"},
      {"t", true},
      {"f", false},
      {"i", -12},
      {"i64", std::numeric_limits<std::int64_t>::min()},
      {"u", 499U},
      {"u64", std::numeric_limits<std::uint64_t>::max()},
      {"d", 1284.7},
      {"whole", 100.0},
      {"small", 0.0001},
      {"null", nullptr},
      {"event", "renamed"},
      {"field_event", "own"},
      {"s", "repeated, dropped"},
      {"caf\xC3\xA9 \x01", "key escaped"},
  };
  const LogFields fields(list.begin(), list.size());

  boost::json::object dom;
  dom.emplace("timestamp", "2026-11-29T05:00:00.123Z");
  for (auto& entry : LogLineObject(LogLevel::kWarning, "ev", "rid", fields)) {
    dom.emplace(entry.key(), entry.value());
  }
  std::string text;
  AppendLogLine(text, FixedTime(), LogLevel::kWarning, "ev", "rid", fields);

  EXPECT_EQ(text, core::ToJsonText(dom));
  EXPECT_EQ(boost::json::parse(text).as_object(), dom);
}

}  // namespace
}  // namespace cms::observability
