#include "simulator/sim_wire.hpp"

#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "simulator/sim_error.hpp"
#include "simulator/sim_json.hpp"

namespace cms::simulator {
namespace {

namespace json = boost::json;

struct SseEvent {
  std::string name;
  std::string data;
};

// A deliberately simple SSE split: events end in a blank line; each has one `event:` and
// one `data:` line, as the simulator writes them.
std::vector<SseEvent> SplitEvents(std::string_view stream) {
  std::vector<SseEvent> events;
  while (!stream.empty()) {
    const std::size_t end = stream.find("\n\n");
    EXPECT_NE(end, std::string_view::npos) << "unterminated event: " << stream;
    if (end == std::string_view::npos) break;
    std::string_view block = stream.substr(0, end);
    stream.remove_prefix(end + 2);
    SseEvent event;
    while (!block.empty()) {
      const std::size_t line_end = block.find('\n');
      const std::string_view line = block.substr(0, line_end);
      if (line.starts_with("event: ")) event.name = line.substr(7);
      if (line.starts_with("data: ")) event.data = line.substr(6);
      block = line_end == std::string_view::npos ? std::string_view{} : block.substr(line_end + 1);
    }
    events.push_back(std::move(event));
  }
  return events;
}

SimAnswer SampleAnswer() {
  SimAnswer answer;
  answer.text = "Héllo \"quoted\" world";
  answer.word_starts = {0, 6, 15};
  answer.stop_reason = StopReason::kMaxTokens;
  answer.usage.input_tokens = 12;
  answer.usage.output_tokens = 3;
  answer.usage.cache_creation_input_tokens = 50;
  answer.usage.ephemeral_1h_input_tokens = 50;
  return answer;
}

void ExpectUsage(const json::value& usage, std::int64_t output_tokens) {
  EXPECT_EQ(usage.at("input_tokens").as_int64(), 12);
  EXPECT_EQ(usage.at("cache_creation_input_tokens").as_int64(), 50);
  EXPECT_EQ(usage.at("cache_read_input_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("cache_creation").at("ephemeral_5m_input_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("cache_creation").at("ephemeral_1h_input_tokens").as_int64(), 50);
  EXPECT_EQ(usage.at("output_tokens").as_int64(), output_tokens);
}

TEST(RenderMessageTest, IsTheAnthropicMessageObject) {
  const json::value message = json::parse(RenderMessage(SampleAnswer(), "msg_sim_1", "mo\"del"));
  EXPECT_EQ(message.at("id").as_string(), "msg_sim_1");
  EXPECT_EQ(message.at("type").as_string(), "message");
  EXPECT_EQ(message.at("role").as_string(), "assistant");
  EXPECT_EQ(message.at("model").as_string(), "mo\"del");
  const auto& content = message.at("content").as_array();
  ASSERT_EQ(content.size(), 1u);
  EXPECT_EQ(content[0].at("type").as_string(), "text");
  EXPECT_EQ(content[0].at("text").as_string(), "Héllo \"quoted\" world");
  EXPECT_EQ(message.at("stop_reason").as_string(), "max_tokens");
  EXPECT_TRUE(message.at("stop_sequence").is_null());
  ExpectUsage(message.at("usage"), 3);
}

TEST(RenderStreamTest, EmitsTheFullEventSequenceInOrder) {
  const SimAnswer answer = SampleAnswer();
  std::string stream = RenderStreamOpening(answer, "msg_sim_2", "claude-x");
  for (const std::string_view delta : SplitIntoDeltas(answer, 1))
    AppendTextDeltaEvent(stream, delta);
  stream += RenderStreamClosing(answer);

  const std::vector<SseEvent> events = SplitEvents(stream);
  const std::vector<std::string> expected_names = {
      "message_start",       "content_block_start", "ping",
      "content_block_delta", "content_block_delta", "content_block_delta",
      "content_block_stop",  "message_delta",       "message_stop"};
  ASSERT_EQ(events.size(), expected_names.size());
  std::string text;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].name, expected_names[i]);
    const json::value data = json::parse(events[i].data);    // Every data line is one JSON object.
    EXPECT_EQ(data.at("type").as_string(), events[i].name);  // The name equals the JSON type.
    if (events[i].name == "content_block_delta") {
      EXPECT_EQ(data.at("index").as_int64(), 0);
      EXPECT_EQ(data.at("delta").at("type").as_string(), "text_delta");
      text += data.at("delta").at("text").as_string();
    }
  }
  EXPECT_EQ(text, answer.text);

  const json::value start = json::parse(events[0].data);
  const auto& message = start.at("message");
  EXPECT_EQ(message.at("id").as_string(), "msg_sim_2");
  EXPECT_EQ(message.at("model").as_string(), "claude-x");
  EXPECT_TRUE(message.at("content").as_array().empty());
  EXPECT_TRUE(message.at("stop_reason").is_null());
  ExpectUsage(message.at("usage"), 1);  // The placeholder output count.

  const json::value block_start = json::parse(events[1].data);
  EXPECT_EQ(block_start.at("index").as_int64(), 0);
  EXPECT_EQ(block_start.at("content_block").at("type").as_string(), "text");
  EXPECT_EQ(block_start.at("content_block").at("text").as_string(), "");

  EXPECT_EQ(json::parse(events[6].data).at("index").as_int64(), 0);
  const json::value delta = json::parse(events[7].data);
  EXPECT_EQ(delta.at("delta").at("stop_reason").as_string(), "max_tokens");
  EXPECT_TRUE(delta.at("delta").at("stop_sequence").is_null());
  ExpectUsage(delta.at("usage"), 3);
}

TEST(RenderMalformedTest, BodiesAreNotValidJson) {
  boost::system::error_code ec;
  const std::string body = RenderMalformedMessage("msg_sim_3", "m");
  static_cast<void>(json::parse(body, ec));
  EXPECT_TRUE(ec) << body;
  const auto events = SplitEvents(MalformedEvent());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "content_block_delta");
  ec = {};
  static_cast<void>(json::parse(events[0].data, ec));
  EXPECT_TRUE(ec);
}

TEST(RenderErrorTest, BodyIsTheRealEnvelopeWithRequestId) {
  const json::value body =
      json::parse(RenderErrorBody({ApiErrorKind::kRateLimit, "slow \"down\""}, "req_sim_abc"));
  EXPECT_EQ(body.at("type").as_string(), "error");
  EXPECT_EQ(body.at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(body.at("error").at("message").as_string(), "slow \"down\"");
  EXPECT_EQ(body.at("request_id").as_string(), "req_sim_abc");
}

TEST(RenderErrorTest, EventIsAnOverloadedErrorEvent) {
  const auto events = SplitEvents(RenderErrorEvent({ApiErrorKind::kOverloaded, "Overloaded"}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "error");
  const json::value data = json::parse(events[0].data);
  EXPECT_EQ(data.at("type").as_string(), "error");
  EXPECT_EQ(data.at("error").at("type").as_string(), "overloaded_error");
  EXPECT_EQ(data.at("error").at("message").as_string(), "Overloaded");
}

TEST(AppendJsonStringTest, EscapesWhatJsonRequiresAndKeepsUtf8) {
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"line\nnext\r\ttab", R"("line\nnext\r\ttab")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x1f\b\f", R"("\u001f\b\f")"},
      {"café 日本語 😀", "\"café 日本語 😀\""},
      {"</script>", R"("</script>")"},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendJsonString(out, c.input);
    EXPECT_EQ(out, c.expected);
    EXPECT_EQ(json::parse(out).as_string(), c.input);  // Round-trips.
  }
}

TEST(AppendNumberTest, WritesDecimalAndPaddedHex) {
  std::string out;
  AppendInteger(out, -42);
  out.push_back(' ');
  AppendInteger(out, 9223372036854775807LL);
  out.push_back(' ');
  AppendHex(out, 0xabcULL, 6);
  EXPECT_EQ(out, "-42 9223372036854775807 000abc");
}

}  // namespace
}  // namespace cms::simulator
