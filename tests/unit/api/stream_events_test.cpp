#include "api/stream_events.hpp"

#include <random>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "api/utf8.hpp"

namespace cms::api {
namespace {

namespace json = boost::json;

// The JSON after "data: " in a single-line data frame.
json::value DataJson(std::string_view frame) {
  constexpr std::string_view kPrefix = "data: ";
  EXPECT_EQ(frame.substr(0, kPrefix.size()), kPrefix);
  EXPECT_EQ(frame.substr(frame.size() - 2), "\n\n");
  const std::string_view data = frame.substr(kPrefix.size(), frame.size() - kPrefix.size() - 2);
  EXPECT_EQ(data.find('\n'), std::string_view::npos) << "data must be one line";
  EXPECT_EQ(data.find('\r'), std::string_view::npos) << "data must be one line";
  return json::parse(data);
}

TEST(TextEvent, WritesDataFrame) {
  EXPECT_EQ(TextEvent("Hello"), "data: {\"text\":\"Hello\"}\n\n");
}

TEST(AppendTextEvent, AppendsFramesAfterWhatIsThere) {
  std::string batch = ": ping\n\n";
  AppendTextEvent(batch, "a\"b");
  AppendTextEvent(batch, "caf\xC3\xA9");
  EXPECT_EQ(batch, ": ping\n\n" + TextEvent("a\"b") + TextEvent("caf\xC3\xA9"));
  EXPECT_EQ(batch, ": ping\n\ndata: {\"text\":\"a\\\"b\"}\n\ndata: {\"text\":\"caf\xC3\xA9\"}\n\n");
}

struct TextCase {
  std::string name;
  std::string text;
  std::string expected_frame;
};

class TextEventTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(TextEventTest, EscapesAndRoundTrips) {
  const std::string frame = TextEvent(GetParam().text);
  EXPECT_EQ(frame, GetParam().expected_frame);
  EXPECT_EQ(std::string(DataJson(frame).as_object().at("text").as_string()), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TextEventTest,
    ::testing::Values(
        TextCase{"Empty", "", "data: {\"text\":\"\"}\n\n"},
        TextCase{"Quotes", R"(say "hi")", "data: {\"text\":\"say \\\"hi\\\"\"}\n\n"},
        TextCase{"Newlines", "a\nb\r\nc", "data: {\"text\":\"a\\nb\\r\\nc\"}\n\n"},
        TextCase{"BlankLineInText", "para\n\npara", "data: {\"text\":\"para\\n\\npara\"}\n\n"},
        TextCase{"Backslash", "a\\b", "data: {\"text\":\"a\\\\b\"}\n\n"},
        TextCase{"Unicode", "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
                 "data: {\"text\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}\n\n"},
        TextCase{"Control", std::string("\x00\x1b", 2), "data: {\"text\":\"\\u0000\\u001b\"}\n\n"},
        TextCase{"FakeDone", "[DONE]", "data: {\"text\":\"[DONE]\"}\n\n"}),
    [](const ::testing::TestParamInfo<TextCase>& info) { return info.param.name; });

TEST(ErrorEvent, WritesNamedEventWithEscapedMessage) {
  EXPECT_EQ(ErrorEvent("Upstream AI error."),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"upstream_error\","
            "\"message\":\"Upstream AI error.\"}}\n\n");
  const std::string frame = ErrorEvent("bad \"x\"\nnext");
  const std::string_view data_frame = std::string_view(frame).substr(frame.find("data: "));
  const json::value data = DataJson(data_frame);
  EXPECT_EQ(data.at("type").as_string(), "error");
  EXPECT_EQ(data.at("error").at("type").as_string(), "upstream_error");
  EXPECT_EQ(data.at("error").at("message").as_string(), "bad \"x\"\nnext");
}

TEST(FixedFrames, AreExact) {
  EXPECT_EQ(DoneEvent(), "data: [DONE]\n\n");
  EXPECT_EQ(HeartbeatComment(), ": ping\n\n");
}

struct SplitCase {
  std::string name;
  std::string text;
  std::size_t max_chunk_bytes;
  std::vector<std::string> expected;
};

class SplitForReplayTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitForReplayTest, Splits) {
  const std::vector<std::string_view> chunks =
      SplitForReplay(GetParam().text, GetParam().max_chunk_bytes);
  EXPECT_EQ(std::vector<std::string>(chunks.begin(), chunks.end()), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SplitForReplayTest,
    ::testing::Values(
        SplitCase{"Empty", "", 8, {}}, SplitCase{"FitsWhole", "hello", 8, {"hello"}},
        SplitCase{"ExactFit", "12345678", 8, {"12345678"}},
        SplitCase{"AfterSpaces", "hello world foo", 8, {"hello ", "world ", "foo"}},
        SplitCase{"AfterNewline", "abcde\nfghij", 8, {"abcde\n", "fghij"}},
        SplitCase{"NoWhitespace", "abcdefghij", 4, {"abcd", "efgh", "ij"}},
        SplitCase{"IgnoresEarlyWhitespace", "a bcdefghij", 8, {"a bcdefg", "hij"}},
        SplitCase{"BacksOffInsideTwoByte", "abc\xc3\xa9x", 4, {"abc", "\xc3\xa9x"}},
        SplitCase{"BacksOffInsideEmoji", "ab\xf0\x9f\x98\x80z", 4, {"ab", "\xf0\x9f\x98\x80", "z"}},
        SplitCase{"CodePointLongerThanWindow",
                  "\xf0\x9f\x98\x80\xc3\xa9",
                  1,
                  {"\xf0\x9f\x98\x80", "\xc3\xa9"}},
        SplitCase{"ZeroMeansOne", "abc", 0, {"a", "b", "c"}}),
    [](const ::testing::TestParamInfo<SplitCase>& info) { return info.param.name; });

TEST(SplitForReplay, NeverSplitsUtf8AndConcatenatesToInput) {
  const std::vector<std::string> pieces = {
      "a", " ", "\n", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "word"};
  std::mt19937 random(12345);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 300);
    for (int i = 0; i < length; ++i) text += pieces[random() % pieces.size()];
    const std::size_t max_chunk_bytes = 1 + random() % 40;
    const std::vector<std::string_view> chunks = SplitForReplay(text, max_chunk_bytes);
    std::string joined;
    for (const std::string_view chunk : chunks) {
      ASSERT_FALSE(chunk.empty());
      ASSERT_TRUE(CountCodePoints(chunk).has_value()) << "chunk splits a code point";
      if (chunk.size() > max_chunk_bytes) {
        ASSERT_EQ(CountCodePoints(chunk), 1u) << "only a single code point may exceed the max";
      }
      joined += chunk;
    }
    ASSERT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace cms::api
