#include "upstream/anthropic_wire.hpp"

#include <cstddef>
#include <optional>
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

// ---- Large documents (over the stack buffer the DOM starts in) ---------------------------

TEST(ParseMessageResponseTest, LargeAnswerOverTheScratchBufferParsesCompletely) {
  // ~200 KB of text over 400 blocks, escapes included: the DOM outgrows its stack buffer.
  std::string body = R"({"model":"m","content":[)";
  std::string expected;
  for (int i = 0; i < 400; ++i) {
    if (i > 0) body += ',';
    std::string piece =
        "block " + std::to_string(i) + " \"q\" caf\xC3\xA9 " + std::string(480, 'z');
    body += R"({"type":"text","text":)" + json::serialize(json::value(piece)) + "}";
    expected += piece;
  }
  body += R"(],"stop_reason":"max_tokens","usage":{"input_tokens":3,"output_tokens":4096}})";
  ASSERT_GT(body.size(), 100'000u);
  const auto completion = ParseMessageResponse(body);
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_EQ(completion->content, expected);
  EXPECT_EQ(completion->model, "m");
  EXPECT_EQ(completion->stop_reason, "max_tokens");
  EXPECT_EQ(completion->usage.input_tokens, 3);
  EXPECT_EQ(completion->usage.output_tokens, 4096);
}

TEST(ParseMessageResponseTest, WideIgnoredContentParses) {
  // A tool_use input holding a 5000-element array: the parser keeps every element on its own
  // stack until the array closes, so that stack outgrows its buffer too.
  std::string input = "[";
  for (int i = 0; i < 5000; ++i) input += (i == 0 ? "" : ",") + std::to_string(i);
  input += "]";
  const std::string body = R"({"content":[{"type":"tool_use","input":{"values":)" + input +
                           R"(}},{"type":"text","text":"after"}]})";
  const auto completion = ParseMessageResponse(body);
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_EQ(completion->content, "after");
}

TEST(ParseErrorResponseTest, LargeEnvelopeOverTheScratchBufferIsRead) {
  const std::string message(20'000, 'm');
  const std::string body = R"({"type":"error","error":{"type":"invalid_request_error",)"
                           R"("message":")" +
                           message + R"("}})";
  const UpstreamError error = ParseErrorResponse(400, body, std::nullopt);
  EXPECT_EQ(error.error_type, "invalid_request_error");
  EXPECT_EQ(error.log_message.substr(0, 10), std::string(10, 'm'));
}

// ---- content_block_delta: the in-place path against the DOM ------------------------------

// What a JSON DOM reads from a content_block_delta's data: the text of a text_delta, "" for
// another delta type, nullopt when the data is invalid for Apply.
std::optional<std::string> DomDeltaText(std::string_view data) {
  boost::system::error_code ec;
  const json::value root = json::parse(data, ec);
  if (ec || !root.is_object()) return std::nullopt;
  const json::value* delta = root.as_object().if_contains("delta");
  if (delta == nullptr || !delta->is_object()) return std::nullopt;
  const json::value* type = delta->as_object().if_contains("type");
  if (type == nullptr || !type->is_string() || type->as_string() != "text_delta") {
    return std::string();
  }
  const json::value* text = delta->as_object().if_contains("text");
  if (text == nullptr || !text->is_string()) return std::nullopt;
  return std::string(text->as_string());
}

// Applies `data` as a content_block_delta to a started stream: the text, or nullopt on error.
std::optional<std::string> AppliedDeltaText(std::string_view data) {
  StreamAccumulator accumulator;
  EXPECT_TRUE(accumulator.Apply({"message_start", R"({"message":{"model":"m"}})"}).has_value());
  const UpstreamResult<std::string> text =
      accumulator.Apply({"content_block_delta", std::string(data)});
  if (!text) return std::nullopt;
  EXPECT_EQ(accumulator.completion().content, *text);
  return *text;
}

std::string Delta(std::string_view raw_text, std::string_view index = "0") {
  return R"({"type":"content_block_delta","index":)" + std::string(index) +
         R"(,"delta":{"type":"text_delta","text":")" + std::string(raw_text) + R"("}})";
}

TEST(StreamAccumulatorTest, TextDeltasReadTheSameInPlaceOrThroughTheDom) {
  struct Row {
    std::string data;
    bool in_place;  // Whether the exact-shape path takes it.
  };
  const Row rows[] = {
      {Delta(" word"), true},
      {Delta(""), true},
      {Delta("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), true},
      {Delta("~ ' / <>{}[]:,\x7F"), true},
      {Delta("x", "12"), true},
      {Delta("x", "123456789"), true},
      // Escapes: only a JSON parser knows what they read as.
      {Delta(R"(say \"hi\")"), false},
      {Delta(R"(back\\slash)"), false},
      {Delta(R"(line\nbreak\ttab\r\b\f\/)"), false},
      {Delta(R"(caf\u00e9 \ud83d\ude00)"), false},
      {Delta(R"(\u0000nul)"), false},
      // Same meaning, another layout.
      {R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"x"},"index":0})",
       false},
      {R"({"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}})",
       false},
      {R"({"type":"content_block_delta","index":0,"delta":{"text":"x","type":"text_delta"}})",
       false},
      {R"({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})",
       false},
      {Delta("x") + " ", false},
      {Delta("x") + "\n", false},
      {R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","extra":1}})",
       false},
      {R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}})",
       false},
      {Delta("x", "1234567890"), false},
      {Delta("x", "-1"), false},
      {Delta("x", "1.5"), false},
      {Delta("x", "1e3"), false},
      {Delta("x", "\"0\""), false},
      // Not JSON at all, however close to the shape: errors either way.
      {Delta("x", "01"), false},
      {Delta("x", ""), false},
      {Delta("tab\there"), false},
      {Delta(std::string("nul") + '\0'), false},
      {Delta("lone\xC3"), false},
      {Delta("overlong\xC0\xAF"), false},
      {Delta("surrogate\xED\xA0\x80"), false},
      {Delta("too high\xF4\x90\x80\x80"), false},
      {Delta("stray\x80"), false},
      {Delta(R"(bad\q)"), false},
      {Delta("x").substr(0, Delta("x").size() - 1), false},
      {Delta(R"(x"})"), false},
      {Delta("x") + "}", false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(detail::PlainTextDelta(row.data).has_value(), row.in_place) << row.data;
    EXPECT_EQ(AppliedDeltaText(row.data), DomDeltaText(row.data)) << row.data;
  }
  // Spot checks that the DOM reference reads what we think it does.
  EXPECT_EQ(AppliedDeltaText(Delta(R"(caf\u00e9 \"q\")")), "caf\xC3\xA9 \"q\"");
  EXPECT_EQ(AppliedDeltaText(Delta(" word")), " word");
  EXPECT_EQ(AppliedDeltaText(Delta("tab\there")), std::nullopt);
}

TEST(StreamAccumulatorTest, InPlaceTextDeltaNeverDisagreesWithTheDomUnderMutation) {
  // Every byte of a typical event replaced by each of a set of bytes, and every prefix: the
  // in-place path either declines or reads exactly what the DOM reads.
  const std::string base = Delta("caf\xC3\xA9 ok", "3");
  const char replacements[] = {'"',    '\\',   ' ',    '}',    '{',    ',',    ':',
                               '0',    '9',    'a',    '\x1f', '\x7f', '\x80', '\xbf',
                               '\xc3', '\xe2', '\xf0', '\xff', '\0'};
  std::vector<std::string> variants;
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (const char byte : replacements) {
      std::string variant = base;
      variant[i] = byte;
      variants.push_back(std::move(variant));
    }
    variants.push_back(base.substr(0, i));
  }
  int in_place = 0;
  for (const std::string& data : variants) {
    const std::optional<std::string_view> fast = detail::PlainTextDelta(data);
    if (fast) {
      ++in_place;
      EXPECT_EQ(std::optional<std::string>(*fast), DomDeltaText(data)) << data;
    }
    EXPECT_EQ(AppliedDeltaText(data), DomDeltaText(data)) << data;
  }
  EXPECT_GT(in_place, 50);  // The mutations inside the text mostly keep the shape.
}

TEST(StreamAccumulatorTest, InPlaceUtf8CheckAgreesWithTheDom) {
  // Every lead byte 0x80-0xFF with interesting continuations, cut short or not: accepted in
  // place exactly when the DOM accepts it, and then read the same.
  const unsigned char seconds[] = {0x00, 0x20, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                   0x9F, 0xA0, 0xBF, 0xC0, 0xC3, 0xF0, 0xFF};
  const unsigned char laters[] = {0x41, 0x80, 0xBF, 0xC0};
  int accepted = 0;
  for (int lead = 0x80; lead <= 0xFF; ++lead) {
    for (const unsigned char second : seconds) {
      for (const unsigned char third : laters) {
        for (const unsigned char fourth : laters) {
          std::string text = "a";
          for (const unsigned char byte :
               {static_cast<unsigned char>(lead), second, third, fourth}) {
            if (byte != 0x00) text.push_back(static_cast<char>(byte));
          }
          if (text.find('"') != std::string::npos || text.find('\\') != std::string::npos) continue;
          const std::string data = Delta(text);
          const std::optional<std::string_view> fast = detail::PlainTextDelta(data);
          const std::optional<std::string> dom = DomDeltaText(data);
          ASSERT_EQ(fast.has_value(), dom.has_value()) << data;
          if (fast) {
            ++accepted;
            ASSERT_EQ(std::string(*fast), *dom) << data;
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 500);
}

// How an accumulator that has seen message_start takes one more event: whether it is
// accepted, the text it adds, and whether the answer is then complete.
struct Applied {
  bool ok = false;
  std::string text;
  bool done = false;

  bool operator==(const Applied&) const = default;
};

Applied ApplyAfterStart(std::string_view name, std::string_view data) {
  StreamAccumulator accumulator;
  EXPECT_TRUE(accumulator.Apply({"message_start", R"({"message":{"model":"m"}})"}).has_value());
  const UpstreamResult<std::string> text = accumulator.Apply({name, data});
  if (!text) return {};
  return {true, *text, accumulator.Done()};
}

// The same event through the DOM: a leading space is still the same JSON, and no exact-shape
// path takes it.
Applied ApplyThroughDom(std::string_view name, std::string_view data) {
  return ApplyAfterStart(name, " " + std::string(data));
}

constexpr std::string_view kPlainBlockStart =
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
constexpr std::string_view kPlainBlockStop = R"({"type":"content_block_stop","index":0})";
constexpr std::string_view kPlainMessageStop = R"({"type":"message_stop"})";

TEST(StreamAccumulatorTest, EmptyEventsReadTheSameInPlaceOrThroughTheDom) {
  struct Row {
    std::string_view name;
    std::string data;
    bool in_place;  // Whether the exact-shape path takes it.
  };
  const Row rows[] = {
      {"content_block_start", std::string(kPlainBlockStart), true},
      {"content_block_start",
       R"({"type":"content_block_start","index":12,"content_block":{"type":"text","text":""}})",
       true},
      {"content_block_stop", std::string(kPlainBlockStop), true},
      {"content_block_stop", R"({"type":"content_block_stop","index":123456789})", true},
      {"message_stop", std::string(kPlainMessageStop), true},
      // A block that carries text, or is not text: the DOM decides.
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"hi"}})",
       false},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}})",
       false},
      // Other layouts, extra fields, other indexes: the DOM decides.
      {"content_block_stop", R"({"index":0,"type":"content_block_stop"})", false},
      {"content_block_stop", R"({"type":"content_block_stop","index":0,"extra":1})", false},
      {"content_block_stop", R"({"type":"content_block_stop","index":01})", false},
      {"content_block_stop", R"({"type":"content_block_stop","index":-1})", false},
      {"content_block_stop", R"({"type":"content_block_stop","index":1234567890})", false},
      {"content_block_stop", R"({"type":"content_block_stop","index":0} )", false},
      {"message_stop", R"({"type":"message_stop","extra":{}})", false},
      {"message_stop", R"({"type": "message_stop"})", false},
      // A payload of another event under this name: not the exact shape.
      {"message_stop", std::string(kPlainBlockStop), false},
      {"content_block_stop", std::string(kPlainMessageStop), false},
      // Not JSON: an error either way.
      {"content_block_stop", R"({"type":"content_block_stop","index":0)", false},
      {"message_stop", R"({"type":"message_stop"}})", false},
      {"message_stop", "", false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(detail::IsPlainEmptyEvent(row.name, row.data), row.in_place)
        << row.name << " " << row.data;
    EXPECT_EQ(ApplyAfterStart(row.name, row.data), ApplyThroughDom(row.name, row.data))
        << row.name << " " << row.data;
  }
  // Spot checks that the reference reads what we think it does.
  EXPECT_EQ(ApplyAfterStart("message_stop", kPlainMessageStop), (Applied{true, "", true}));
  EXPECT_EQ(ApplyAfterStart("content_block_stop", kPlainBlockStop), (Applied{true, "", false}));
  EXPECT_EQ(ApplyAfterStart("message_stop", "{"), Applied{});
}

TEST(StreamAccumulatorTest, InPlaceEmptyEventsNeverDisagreeWithTheDomUnderMutation) {
  // Every byte of each shape replaced by each of a set of bytes, and every prefix: the
  // exact-shape path either declines or reads what the DOM reads.
  const char replacements[] = {'"', '\\', ' ', '}', '{', ',', ':', '0', '9', 'a', 'x', '\0'};
  int in_place = 0;
  int checked = 0;
  for (const auto& [name, base] : {std::pair{"content_block_start", kPlainBlockStart},
                                   std::pair{"content_block_stop", kPlainBlockStop},
                                   std::pair{"message_stop", kPlainMessageStop}}) {
    std::vector<std::string> variants;
    for (std::size_t i = 0; i < base.size(); ++i) {
      for (const char byte : replacements) {
        std::string variant(base);
        variant[i] = byte;
        variants.push_back(std::move(variant));
      }
      variants.emplace_back(base.substr(0, i));
    }
    for (const std::string& data : variants) {
      if (detail::IsPlainEmptyEvent(name, data)) ++in_place;
      EXPECT_EQ(ApplyAfterStart(name, data), ApplyThroughDom(name, data)) << name << " " << data;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(in_place, 0);  // The index digits may change and keep the shape.
}

TEST(StreamAccumulatorTest, InPlaceEmptyEventsBeforeMessageStartAreStillErrors) {
  for (const auto& [name, data] : {std::pair{"content_block_start", kPlainBlockStart},
                                   std::pair{"content_block_stop", kPlainBlockStop},
                                   std::pair{"message_stop", kPlainMessageStop}}) {
    StreamAccumulator accumulator;
    const auto result = accumulator.Apply({name, data});
    ASSERT_FALSE(result.has_value()) << name;
    EXPECT_NE(result.error().log_message.find("before message_start"), std::string::npos);
    EXPECT_FALSE(accumulator.Done());
  }
}

TEST(StreamAccumulatorTest, InPlaceTextDeltaBeforeMessageStartIsStillAnError) {
  StreamAccumulator accumulator;
  const auto result = accumulator.Apply({"content_block_delta", Delta("x")});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, UpstreamErrorKind::kUnavailable);
  EXPECT_NE(result.error().log_message.find("before message_start"), std::string::npos);
}

TEST(StreamAccumulatorTest, LargeEventsOverTheScratchBufferAccumulate) {
  // A 50 KB delta with escapes (the DOM path, outgrowing its stack buffer) and a 50 KB plain
  // one (the in-place path) in one stream.
  std::string escaped_text;
  std::string plain_text;
  for (int i = 0; i < 5000; ++i) {
    escaped_text += "\"q\"\n\xC3\xA9 ";
    plain_text += "plain text ";
  }
  SseParser parser;
  parser.Feed("event: message_start\ndata: {\"message\":{\"model\":\"m\"}}\n\n");
  parser.Feed(std::string("event: content_block_delta\ndata: ") +
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)" +
              json::serialize(json::value(escaped_text)) + "}}\n\n");
  parser.Feed(std::string("event: content_block_delta\ndata: ") + Delta(plain_text) + "\n\n");
  parser.Feed("event: message_stop\ndata: {}\n\n");
  StreamAccumulator accumulator;
  std::vector<std::string> deltas;
  SseEventView event;
  while (parser.Next(event)) {
    const UpstreamResult<std::string> text = accumulator.Apply(event);
    ASSERT_TRUE(text.has_value()) << text.error().log_message;
    if (!text->empty()) deltas.push_back(*text);
  }
  EXPECT_TRUE(accumulator.Done());
  EXPECT_EQ(deltas, (std::vector<std::string>{escaped_text, plain_text}));
  EXPECT_EQ(accumulator.completion().content, escaped_text + plain_text);
}

TEST(StreamAccumulatorTest, SimulatorShapedStreamAccumulatesEveryDelta) {
  // The stream our simulator (and Anthropic) sends, one Feed() per event as it arrives.
  const std::vector<std::string> words = {" Hello", ",", " caf\xC3\xA9", " \\\"quoted\\\"",
                                          " done."};
  std::string stream =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],"
      "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,"
      "\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: ping\ndata: {\"type\":\"ping\"}\n\n";
  for (const std::string& word : words) {
    stream += "event: content_block_delta\ndata: " + Delta(word) + "\n\n";
  }
  stream +=
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  SseParser parser;
  parser.Feed(stream);
  StreamAccumulator accumulator;
  std::string joined;
  while (std::optional<SseEvent> event = parser.Next()) {
    const UpstreamResult<std::string> text = accumulator.Apply(*event);
    ASSERT_TRUE(text.has_value()) << text.error().log_message;
    joined += *text;
  }
  EXPECT_TRUE(accumulator.Done());
  EXPECT_EQ(joined, " Hello, caf\xC3\xA9 \"quoted\" done.");
  EXPECT_EQ(accumulator.completion().content, joined);
  EXPECT_EQ(accumulator.completion().stop_reason, "end_turn");
  EXPECT_EQ(accumulator.completion().usage.output_tokens, 5);
}

}  // namespace
}  // namespace cms::upstream
