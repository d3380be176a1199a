#include "simulator/sim_request.hpp"

#include <string>

#include <gtest/gtest.h>

namespace cms::simulator {
namespace {

TEST(ParseSimRequestTest, ParsesAMinimalRequest) {
  const auto request = ParseSimRequest(
      R"({"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->model, "claude-sonnet-4-6");
  EXPECT_EQ(request->max_tokens, 64);
  ASSERT_EQ(request->messages.size(), 1u);
  EXPECT_EQ(request->messages[0].role, SimRole::kUser);
  EXPECT_EQ(request->messages[0].text, "hi");
  EXPECT_EQ(request->system, "");
  EXPECT_EQ(request->cached_system_bytes, 0u);
  EXPECT_FALSE(request->temperature.has_value());
  EXPECT_FALSE(request->stream);
}

TEST(ParseSimRequestTest, ParsesEveryOptionalField) {
  const auto request = ParseSimRequest(R"({
    "model":"m","max_tokens":5.0,"temperature":0.5,"stream":true,"metadata":{"user_id":"x"},
    "system":[{"type":"text","text":"Be terse. "},
              {"type":"text","text":"Reference.","cache_control":{"type":"ephemeral","ttl":"1h"}},
              {"type":"text","text":" Tail"}],
    "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
                {"role":"assistant","content":"ok"},
                {"role":"user","content":"again"}]})");
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->max_tokens, 5);
  ASSERT_TRUE(request->temperature.has_value());
  EXPECT_DOUBLE_EQ(*request->temperature, 0.5);
  EXPECT_TRUE(request->stream);
  EXPECT_EQ(request->system, "Be terse. Reference. Tail");
  // The breakpoint is after the block marked with cache_control.
  EXPECT_EQ(request->cached_system_bytes, std::string("Be terse. Reference.").size());
  EXPECT_EQ(request->cache_ttl, CacheTtl::k1h);
  ASSERT_EQ(request->messages.size(), 3u);
  EXPECT_EQ(request->messages[0].text, "ab");
  EXPECT_EQ(request->messages[1].role, SimRole::kAssistant);
  ASSERT_NE(LastUserMessage(*request), nullptr);
  EXPECT_EQ(LastUserMessage(*request)->text, "again");
}

TEST(ParseSimRequestTest, AcceptsAnEmptyFinalAssistantPrefill) {
  const auto request = ParseSimRequest(
      R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":""}]})");
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->messages.size(), 2u);
}

struct InvalidCase {
  const char* name;
  const char* body;
  const char* expected_message_prefix;
};

class ParseSimRequestInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ParseSimRequestInvalidTest, RefusesWithInvalidRequestNamingTheField) {
  const auto request = ParseSimRequest(GetParam().body);
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().kind, ApiErrorKind::kInvalidRequest);
  EXPECT_EQ(request.error().message.rfind(GetParam().expected_message_prefix, 0), 0u)
      << "message was: " << request.error().message;
}

constexpr const char* kMsgs = R"("messages":[{"role":"user","content":"hi"}])";

#define BODY(fields) "{" fields "}"

INSTANTIATE_TEST_SUITE_P(
    Table, ParseSimRequestInvalidTest,
    ::testing::Values(
        InvalidCase{"NotJson", "{\"model\":", "invalid JSON body"},
        InvalidCase{"NotAnObject", "[1,2]", "request body must be a JSON object"},
        InvalidCase{"ModelMissing",
                    R"({"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
                    "model: Field required"},
        InvalidCase{"ModelNotString",
                    R"({"model":3,"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
                    "model: Input should be a valid string"},
        InvalidCase{"ModelEmpty",
                    R"({"model":"","max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
                    "model: String should have at least 1 character"},
        InvalidCase{"MaxTokensMissing",
                    R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
                    "max_tokens: Field required"},
        InvalidCase{"MaxTokensString",
                    R"({"model":"m","max_tokens":"5","messages":[{"role":"user","content":"hi"}]})",
                    "max_tokens: Input should be a valid integer"},
        InvalidCase{"MaxTokensFraction",
                    R"({"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]})",
                    "max_tokens: Input should be a valid integer"},
        InvalidCase{"MaxTokensZero",
                    R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]})",
                    "max_tokens: Input should be greater than or equal to 1"},
        InvalidCase{"MaxTokensNegative",
                    R"({"model":"m","max_tokens":-3,"messages":[{"role":"user","content":"hi"}]})",
                    "max_tokens: Input should be greater than or equal to 1"},
        InvalidCase{"MessagesMissing", R"({"model":"m","max_tokens":1})",
                    "messages: Field required"},
        InvalidCase{"MessagesNotArray", R"({"model":"m","max_tokens":1,"messages":"hi"})",
                    "messages: Input should be a valid list"},
        InvalidCase{"MessagesEmpty", R"({"model":"m","max_tokens":1,"messages":[]})",
                    "messages: List should have at least 1 item"},
        InvalidCase{"MessageNotObject", R"({"model":"m","max_tokens":1,"messages":[3]})",
                    "messages.0: Input should be an object"},
        InvalidCase{"RoleMissing", R"({"model":"m","max_tokens":1,"messages":[{"content":"hi"}]})",
                    "messages.0.role: Field required"},
        InvalidCase{"RoleSystem",
                    R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":"hi"}]})",
                    "messages.0.role: Input should be 'user' or 'assistant'"},
        InvalidCase{"ContentMissing",
                    R"({"model":"m","max_tokens":1,"messages":[{"role":"user"}]})",
                    "messages.0.content: Field required"},
        InvalidCase{"ContentNumber",
                    R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":7}]})",
                    "messages.0.content: Input should be a valid string or a list"},
        InvalidCase{"ContentEmptyUser",
                    R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":""}]})",
                    "messages.0.content: all messages must have non-empty content"},
        InvalidCase{
            "ContentImageBlock",
            R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]})",
            "messages.0.content.0.type: only text blocks"},
        InvalidCase{
            "ContentBlockTextMissing",
            R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text"}]}]})",
            "messages.1.content.0.text: Field required"},
        InvalidCase{"SystemNumber",
                    BODY(R"("model":"m","max_tokens":1,"system":4,)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "system: Input should be a valid string or a list"},
        InvalidCase{"SystemBlockTextNotString",
                    BODY(R"("model":"m","max_tokens":1,"system":[{"type":"text","text":1}],)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "system.0.text: Input should be a valid string"},
        InvalidCase{"TemperatureString",
                    BODY(R"("model":"m","max_tokens":1,"temperature":"hot",)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "temperature: Input should be a valid number"},
        InvalidCase{"TemperatureAboveOne",
                    BODY(R"("model":"m","max_tokens":1,"temperature":1.01,)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "temperature: Input should be less than or equal to 1"},
        InvalidCase{"TemperatureBelowZero",
                    BODY(R"("model":"m","max_tokens":1,"temperature":-0.1,)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "temperature: Input should be greater than or equal to 0"},
        InvalidCase{"StreamString",
                    BODY(R"("model":"m","max_tokens":1,"stream":"yes",)"
                         R"("messages":[{"role":"user","content":"hi"}])"),
                    "stream: Input should be a valid boolean"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ParseSimRequestTest, AcceptsTemperatureBoundaries) {
  for (const char* temperature : {"0", "1", "1.0", "0.0"}) {
    const std::string body = std::string(R"({"model":"m","max_tokens":1,"temperature":)") +
                             temperature + "," + kMsgs + "}";
    EXPECT_TRUE(ParseSimRequest(body).has_value()) << temperature;
  }
}

}  // namespace
}  // namespace cms::simulator
