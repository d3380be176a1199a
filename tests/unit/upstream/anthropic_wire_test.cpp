#include "upstream/anthropic_wire.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

namespace cms::upstream {
namespace {

namespace json = boost::json;

core::CompletionRequest BasicRequest() {
  core::CompletionRequest request;
  request.model = "claude-sonnet-4-6";
  request.max_tokens = 1024;
  request.messages = {
      {core::Role::kUser, "Hello"}, {core::Role::kAssistant, "Hi!"}, {core::Role::kUser, "Bye"}};
  return request;
}

json::value Parsed(std::string_view text) { return json::parse(text); }

// ---- BuildMessagesBody -------------------------------------------------------------------

TEST(BuildMessagesBodyTest, MinimalRequestHasExactlyModelMaxTokensAndMessages) {
  const std::string body = BuildMessagesBody(BasicRequest(), /*stream=*/false);
  EXPECT_EQ(Parsed(body), Parsed(R"({"model":"claude-sonnet-4-6","max_tokens":1024,"messages":[
      {"role":"user","content":"Hello"},{"role":"assistant","content":"Hi!"},
      {"role":"user","content":"Bye"}]})"));
}

TEST(BuildMessagesBodyTest, StreamingAddsStreamTrue) {
  const json::value body = Parsed(BuildMessagesBody(BasicRequest(), /*stream=*/true));
  EXPECT_EQ(body.at("stream"), json::value(true));
  EXPECT_EQ(body.as_object().size(), 4u);
}

TEST(BuildMessagesBodyTest, SystemIsAPlainStringWithoutCacheSystem) {
  core::CompletionRequest request = BasicRequest();
  request.system = "Be terse.";
  const json::value body = Parsed(BuildMessagesBody(request, false));
  EXPECT_EQ(body.at("system"), json::value("Be terse."));
}

TEST(BuildMessagesBodyTest, CacheSystemSendsOneTextBlockWithEphemeralCacheControl) {
  core::CompletionRequest request = BasicRequest();
  request.system = "Long reference text";
  request.cache_system = true;
  const json::value body = Parsed(BuildMessagesBody(request, false));
  EXPECT_EQ(body.at("system"), Parsed(R"([{"type":"text","text":"Long reference text",
      "cache_control":{"type":"ephemeral"}}])"));
}

TEST(BuildMessagesBodyTest, CacheSystemWithoutSystemSendsNoSystem) {
  core::CompletionRequest request = BasicRequest();
  request.cache_system = true;
  const json::value body = Parsed(BuildMessagesBody(request, false));
  EXPECT_EQ(body.as_object().if_contains("system"), nullptr);
}

TEST(BuildMessagesBodyTest, TemperatureOnlyWhenPresent) {
  core::CompletionRequest request = BasicRequest();
  EXPECT_EQ(Parsed(BuildMessagesBody(request, false)).as_object().if_contains("temperature"),
            nullptr);
  struct Row {
    double temperature;
    std::string_view text;
  };
  for (const Row& row : {Row{0.0, R"("temperature":0)"}, Row{0.7, R"("temperature":0.7)"},
                         Row{1.0, R"("temperature":1)"}}) {
    request.temperature = row.temperature;
    const std::string body = BuildMessagesBody(request, false);
    EXPECT_NE(body.find(row.text), std::string::npos) << body;
    EXPECT_EQ(Parsed(body).at("temperature").to_number<double>(), row.temperature);
  }
}

TEST(BuildMessagesBodyTest, NonFiniteTemperatureIsABug) {
  core::CompletionRequest request = BasicRequest();
  request.temperature = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW((void)BuildMessagesBody(request, false), std::invalid_argument);
}

TEST(BuildMessagesBodyTest, EscapesTextSoItRoundTrips) {
  const std::vector<std::string> texts = {
      "quote \" backslash \\ slash /",
      "newline \n return \r tab \t backspace \b formfeed \f",
      std::string("control \x01 \x1f nul ") + std::string(1, '\0') + " end",
      "utf-8 caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
      "</script> \x7f",
      "",
  };
  for (const std::string& text : texts) {
    core::CompletionRequest request = BasicRequest();
    request.messages = {{core::Role::kUser, text}};
    request.system = text;
    request.model = text;
    const json::value body = Parsed(BuildMessagesBody(request, false));
    EXPECT_EQ(body.at("messages").at(0).at("content").as_string(), text);
    EXPECT_EQ(body.at("system").as_string(), text);
    EXPECT_EQ(body.at("model").as_string(), text);
  }
}

// ---- ParseMessageResponse ----------------------------------------------------------------

TEST(ParseMessageResponseTest, ConcatenatesTextBlocksAndSkipsToolUse) {
  const auto completion = ParseMessageResponse(R"({
    "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
    "content": [
      {"type": "text", "text": "I'll check ", "citations": null},
      {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}},
      {"type": "thinking", "thinking": "hmm", "signature": "sig"},
      {"type": "text", "text": "the weather."}
    ],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 48, "output_tokens": 61, "cache_creation_input_tokens": 2051,
              "cache_read_input_tokens": 3,
              "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2051},
              "service_tier": "standard"}
  })");
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_EQ(completion->content, "I'll check the weather.");
  EXPECT_EQ(completion->model, "claude-sonnet-4-6");
  EXPECT_EQ(completion->stop_reason, "tool_use");
  EXPECT_EQ(completion->usage.input_tokens, 48);
  EXPECT_EQ(completion->usage.output_tokens, 61);
  EXPECT_EQ(completion->usage.cache_creation_input_tokens, 2051);
  EXPECT_EQ(completion->usage.cache_read_input_tokens, 3);
}

TEST(ParseMessageResponseTest, MissingOrNullFieldsAreZeroOrEmpty) {
  struct Row {
    std::string_view name;
    std::string_view body;
    std::int64_t input_tokens;
    std::int64_t output_tokens;
  };
  const Row rows[] = {
      {"no usage", R"({"content":[]})", 0, 0},
      {"null usage", R"({"content":[],"usage":null})", 0, 0},
      {"only output", R"({"content":[],"usage":{"output_tokens":5}})", 0, 5},
      {"null counters", R"({"content":[],"usage":{"input_tokens":null,"output_tokens":2,
          "cache_read_input_tokens":null}})",
       0, 2},
  };
  for (const Row& row : rows) {
    const auto completion = ParseMessageResponse(row.body);
    ASSERT_TRUE(completion.has_value()) << row.name;
    EXPECT_EQ(completion->usage.input_tokens, row.input_tokens) << row.name;
    EXPECT_EQ(completion->usage.output_tokens, row.output_tokens) << row.name;
    EXPECT_EQ(completion->usage.cache_creation_input_tokens, 0) << row.name;
    EXPECT_EQ(completion->usage.cache_read_input_tokens, 0) << row.name;
    EXPECT_EQ(completion->model, "") << row.name;
    EXPECT_EQ(completion->stop_reason, "") << row.name;
    EXPECT_EQ(completion->content, "") << row.name;
  }
}

TEST(ParseMessageResponseTest, MalformedBodiesAreUnavailable) {
  const std::string_view bodies[] = {
      "",
      "not json",
      "{\"content\":[",
      "[]",
      "{}",
      R"({"content":{}})",
      R"({"content":[1]})",
      R"({"content":[{"type":"text","text":5}]})",
      R"({"content":[{"type":"text"}]})",
      R"({"content":[],"model":5})",
      R"({"content":[],"stop_reason":["end_turn"]})",
      R"({"content":[],"usage":[]})",
      R"({"content":[],"usage":{"input_tokens":"12"}})",
      R"({"content":[],"usage":{"output_tokens":1.5}})",
      R"({"content":[],"usage":{"output_tokens":18446744073709551615}})",
  };
  for (std::string_view body : bodies) {
    const auto completion = ParseMessageResponse(body);
    ASSERT_FALSE(completion.has_value()) << body;
    EXPECT_EQ(completion.error().kind, UpstreamErrorKind::kUnavailable) << body;
    EXPECT_EQ(completion.error().status, 200) << body;
    EXPECT_FALSE(completion.error().log_message.empty()) << body;
  }
}

// ---- ParseErrorResponse ------------------------------------------------------------------

TEST(ParseErrorResponseTest, MapsStatusAndReadsTheEnvelope) {
  struct Row {
    int status;
    std::string_view body;
    UpstreamErrorKind kind;
    std::string_view error_type;
    std::string_view log_message;
  };
  const Row rows[] = {
      {429, R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}})",
       UpstreamErrorKind::kRateLimited, "rate_limit_error", "Slow down"},
      {529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},
          "request_id":"req_1"})",
       UpstreamErrorKind::kUnavailable, "overloaded_error", "Overloaded"},
      {401,
       R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})",
       UpstreamErrorKind::kBadCredentials, "authentication_error", "invalid x-api-key"},
      {403, R"({"error":{"type":"permission_error"}})", UpstreamErrorKind::kBadCredentials,
       "permission_error", ""},
      {404, R"({"type":"error","error":{"type":"not_found_error","message":"model: x"}})",
       UpstreamErrorKind::kRejected, "not_found_error", "model: x"},
      {400, R"({"error":{"type":42,"message":7}})", UpstreamErrorKind::kRejected, "", ""},
      {500, R"({"type":"error","error":{"type":"api_error","message":"Internal"}})",
       UpstreamErrorKind::kUnavailable, "api_error", "Internal"},
  };
  for (const Row& row : rows) {
    const UpstreamError error = ParseErrorResponse(row.status, row.body, std::nullopt);
    EXPECT_EQ(error.kind, row.kind) << row.status;
    EXPECT_EQ(error.status, row.status);
    EXPECT_EQ(error.error_type, row.error_type) << row.status;
    EXPECT_EQ(error.log_message, row.log_message) << row.status;
    EXPECT_FALSE(error.retry_after.has_value());
  }
}

TEST(ParseErrorResponseTest, KeepsRetryAfter) {
  const UpstreamError error = ParseErrorResponse(
      429, R"({"error":{"type":"rate_limit_error","message":"m"}})", std::string("7"));
  EXPECT_EQ(error.retry_after, std::optional<std::string>("7"));
}

TEST(ParseErrorResponseTest, NonJsonBodiesKeepTheStatusKind) {
  struct Row {
    int status;
    std::string_view body;
    UpstreamErrorKind kind;
  };
  const Row rows[] = {
      {502, "<html><body>Bad Gateway</body></html>", UpstreamErrorKind::kUnavailable},
      {413, "<html>Request Entity Too Large</html>", UpstreamErrorKind::kRejected},
      {503, "", UpstreamErrorKind::kUnavailable},
      {500, R"({"message":"no envelope"})", UpstreamErrorKind::kUnavailable},
      {500, R"(["error"])", UpstreamErrorKind::kUnavailable},
  };
  for (const Row& row : rows) {
    const UpstreamError error = ParseErrorResponse(row.status, row.body, std::nullopt);
    EXPECT_EQ(error.kind, row.kind) << row.body;
    EXPECT_EQ(error.error_type, "") << row.body;
    EXPECT_FALSE(error.log_message.empty()) << row.body;
  }
}

TEST(ParseErrorResponseTest, LogSnippetOfALongBodyIsBoundedAndWholeCharacters) {
  std::string body = "x";
  for (int i = 0; i < 1000; ++i) body += "\xC3\xA9";  // "é", 2 bytes each, odd offsets.
  const UpstreamError error = ParseErrorResponse(502, body, std::nullopt);
  EXPECT_LT(error.log_message.size(), 300u);
  const std::string_view message = error.log_message;
  ASSERT_TRUE(message.size() > 3 && message.substr(message.size() - 3) == "...");
  // The byte before "..." must end a complete "é" (0xA9), never a lone 0xC3 lead byte.
  EXPECT_EQ(static_cast<unsigned char>(message[message.size() - 4]), 0xA9);
}

// ---- RetryAfterFromHeaders ---------------------------------------------------------------

TEST(RetryAfterFromHeadersTest, PrefersRetryAfterThenRoundsMillisecondsUp) {
  using O = std::optional<std::string_view>;
  struct Row {
    O retry_after;
    O retry_after_ms;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {O("12"), O("500"), "12"},
      {O("Wed, 21 Oct 2026 07:28:00 GMT"), std::nullopt, "Wed, 21 Oct 2026 07:28:00 GMT"},
      {std::nullopt, O("1500"), "2"},
      {std::nullopt, O("1000"), "1"},
      {std::nullopt, O("1"), "1"},
      {std::nullopt, O("0"), "0"},
      {std::nullopt, O("250.5"), "1"},
      {std::nullopt, O("-5"), std::nullopt},
      {std::nullopt, O("soon"), std::nullopt},
      {std::nullopt, O("10x"), std::nullopt},
      {std::nullopt, O("1e300"), std::nullopt},
      {std::nullopt, std::nullopt, std::nullopt},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(RetryAfterFromHeaders(row.retry_after, row.retry_after_ms), row.expected)
        << row.retry_after.value_or("-") << " / " << row.retry_after_ms.value_or("-");
  }
}

// ---- StreamAccumulator -------------------------------------------------------------------

// docs/anthropic-api.md section 3.4, verbatim.
constexpr std::string_view kExampleStream = R"(event: message_start
data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check the current weather in Paris for you."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"on\": \"Paris\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}

event: message_stop
data: {"type":"message_stop"}

)";

TEST(StreamAccumulatorTest, AccumulatesTheDocumentedExampleStream) {
  SseParser parser;
  parser.Feed(kExampleStream);
  StreamAccumulator accumulator;
  std::vector<std::string> deltas;
  int events = 0;
  while (std::optional<SseEvent> event = parser.Next()) {
    ++events;
    ASSERT_FALSE(accumulator.Done());
    const UpstreamResult<std::string> text = accumulator.Apply(*event);
    ASSERT_TRUE(text.has_value()) << event->event << ": " << text.error().log_message;
    if (!text->empty()) deltas.push_back(*text);
  }
  EXPECT_EQ(events, 12);
  EXPECT_TRUE(accumulator.Done());
  EXPECT_EQ(deltas, std::vector<std::string>{"I'll check the current weather in Paris for you."});
  const core::Completion& completion = accumulator.completion();
  EXPECT_EQ(completion.model, "claude-opus-4-8");
  EXPECT_EQ(completion.content, "I'll check the current weather in Paris for you.");
  EXPECT_EQ(completion.stop_reason, "tool_use");
  EXPECT_EQ(completion.usage.input_tokens, 377);
  EXPECT_EQ(completion.usage.output_tokens, 65);
  EXPECT_EQ(completion.usage.cache_creation_input_tokens, 0);
  EXPECT_EQ(completion.usage.cache_read_input_tokens, 0);
}

UpstreamResult<std::string> ApplyOk(StreamAccumulator& accumulator, std::string_view name,
                                    std::string_view data) {
  return accumulator.Apply(SseEvent{std::string(name), std::string(data)});
}

TEST(StreamAccumulatorTest, MessageDeltaUsageOverwritesFieldByFieldNeverAdds) {
  StreamAccumulator accumulator;
  ASSERT_TRUE(ApplyOk(accumulator, "message_start",
                      R"({"type":"message_start","message":{"model":"m","usage":{
                          "input_tokens":10,"output_tokens":1,"cache_creation_input_tokens":5,
                          "cache_read_input_tokens":7}}})"));
  ASSERT_TRUE(ApplyOk(accumulator, "message_delta",
                      R"({"type":"message_delta","delta":{"stop_reason":null},
                          "usage":{"output_tokens":20,"input_tokens":12}})"));
  EXPECT_EQ(accumulator.completion().usage.output_tokens, 20);
  EXPECT_EQ(accumulator.completion().usage.input_tokens, 12);
  EXPECT_EQ(accumulator.completion().stop_reason, "");
  ASSERT_TRUE(ApplyOk(accumulator, "message_delta",
                      R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},
                          "usage":{"output_tokens":30,"cache_read_input_tokens":null}})"));
  const core::Usage& usage = accumulator.completion().usage;
  EXPECT_EQ(usage.input_tokens, 12);
  EXPECT_EQ(usage.output_tokens, 30);
  EXPECT_EQ(usage.cache_creation_input_tokens, 5);
  EXPECT_EQ(usage.cache_read_input_tokens, 7);
  EXPECT_EQ(accumulator.completion().stop_reason, "max_tokens");
  EXPECT_FALSE(accumulator.Done());
  ASSERT_TRUE(ApplyOk(accumulator, "message_stop", R"({"type":"message_stop"})"));
  EXPECT_TRUE(accumulator.Done());
}

TEST(StreamAccumulatorTest, ErrorEventIsUnavailableWithItsType) {
  StreamAccumulator accumulator;
  ASSERT_TRUE(ApplyOk(accumulator, "message_start", R"({"message":{"model":"m"}})"));
  const auto result = ApplyOk(
      accumulator, "error",
      R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, UpstreamErrorKind::kUnavailable);
  EXPECT_EQ(result.error().error_type, "overloaded_error");
  EXPECT_EQ(result.error().status, 0);
  EXPECT_NE(result.error().log_message.find("Overloaded"), std::string::npos);
}

TEST(StreamAccumulatorTest, MalformedErrorEventIsStillAnError) {
  StreamAccumulator accumulator;
  const auto result = ApplyOk(accumulator, "error", "not json");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, UpstreamErrorKind::kUnavailable);
  EXPECT_EQ(result.error().error_type, "");
}

TEST(StreamAccumulatorTest, IgnoresPingUnnamedAndUnknownEvents) {
  StreamAccumulator accumulator;
  for (const SseEvent& event : {SseEvent{"ping", R"({"type":"ping"})"}, SseEvent{"", "{}"},
                                SseEvent{"future_event", "not even json"}}) {
    const auto result = accumulator.Apply(event);
    ASSERT_TRUE(result.has_value()) << event.event;
    EXPECT_EQ(*result, "");
  }
  EXPECT_FALSE(accumulator.Done());
}

TEST(StreamAccumulatorTest, OnlyTextDeltasAddText) {
  StreamAccumulator accumulator;
  ASSERT_TRUE(ApplyOk(accumulator, "message_start", R"({"message":{"model":"m"}})"));
  struct Row {
    std::string_view name;
    std::string_view data;
    std::string_view text;
  };
  const Row rows[] = {
      {"content_block_start", R"({"index":0,"content_block":{"type":"thinking","thinking":""}})",
       ""},
      {"content_block_delta", R"({"index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})",
       ""},
      {"content_block_delta", R"({"index":0,"delta":{"type":"signature_delta","signature":"s"}})",
       ""},
      {"content_block_stop", R"({"index":0})", ""},
      {"content_block_start", R"({"index":1,"content_block":{"type":"text","text":"Pre"}})", "Pre"},
      {"content_block_delta", R"({"index":1,"delta":{"type":"text_delta","text":"fix"}})", "fix"},
      {"content_block_delta", R"({"index":1,"delta":{"type":"citations_delta","citation":{}}})",
       ""},
  };
  for (const Row& row : rows) {
    const auto text = ApplyOk(accumulator, row.name, row.data);
    ASSERT_TRUE(text.has_value()) << row.data;
    EXPECT_EQ(*text, row.text) << row.data;
  }
  EXPECT_EQ(accumulator.completion().content, "Prefix");
}

TEST(StreamAccumulatorTest, MalformedOrOutOfOrderEventsAreUnavailable) {
  struct Row {
    std::string_view name;
    std::vector<SseEvent> events;  // The last one must fail.
  };
  const SseEvent start{"message_start", R"({"message":{"model":"m"}})"};
  const Row rows[] = {
      {"delta before start",
       {{"content_block_delta", R"({"delta":{"type":"text_delta","text":"x"}})"}}},
      {"stop before start", {{"message_stop", "{}"}}},
      {"second start", {start, start}},
      {"start without message", {{"message_start", "{}"}}},
      {"start with bad usage",
       {{"message_start", R"({"message":{"usage":{"input_tokens":"1"}}})"}}},
      {"malformed delta json", {start, {"content_block_delta", R"({"delta":)"}}},
      {"delta without delta", {start, {"content_block_delta", R"({"index":0})"}}},
      {"text_delta without text",
       {start, {"content_block_delta", R"({"delta":{"type":"text_delta"}})"}}},
      {"message_delta bad usage", {start, {"message_delta", R"({"usage":{"output_tokens":[]}})"}}},
      {"message_delta bad stop", {start, {"message_delta", R"({"delta":{"stop_reason":1}})"}}},
      {"message_stop not json", {start, {"message_stop", ""}}},
  };
  for (const Row& row : rows) {
    StreamAccumulator accumulator;
    for (std::size_t i = 0; i + 1 < row.events.size(); ++i) {
      ASSERT_TRUE(accumulator.Apply(row.events[i]).has_value()) << row.name;
    }
    const auto result = accumulator.Apply(row.events.back());
    ASSERT_FALSE(result.has_value()) << row.name;
    EXPECT_EQ(result.error().kind, UpstreamErrorKind::kUnavailable) << row.name;
    EXPECT_FALSE(result.error().log_message.empty()) << row.name;
  }
}

}  // namespace
}  // namespace cms::upstream
