#include "api/parse_completion_request.hpp"

#include <cmath>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <gtest/gtest.h>

namespace cms::api {

// Readable failures for issue lists.
void PrintTo(const ValidationIssue& issue, std::ostream* os) {
  *os << "{" << issue.type << ", [";
  for (const LocItem& item : issue.loc) {
    if (const auto* name = std::get_if<std::string>(&item)) {
      *os << '"' << *name << "\" ";
    } else {
      *os << std::get<std::int64_t>(item) << ' ';
    }
  }
  *os << "], " << issue.msg << "}";
}

namespace {

using Loc = std::vector<LocItem>;

// DEFAULT_MODEL, DEFAULT_MAX_TOKENS and MAX_TOKENS_LIMIT at their documented defaults.
RequestLimits DefaultLimits() { return RequestLimits{"claude-sonnet-4-6", 1024, 8096}; }

std::string Repeat(std::string_view unit, std::size_t count) {
  std::string text;
  text.reserve(unit.size() * count);
  for (std::size_t i = 0; i < count; ++i) text += unit;
  return text;
}

std::string Quote(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

std::string Message(std::string_view role, std::string_view content) {
  return R"({"role":)" + Quote(role) + R"(,"content":)" + Quote(content) + "}";
}

// `count` messages alternating user/assistant, ending with a user message.
std::string Conversation(std::size_t count) {
  std::string messages = "[";
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) messages += ",";
    messages += Message((count - i) % 2 == 1 ? "user" : "assistant", "m" + std::to_string(i));
  }
  return messages + "]";
}

// A valid request with `extra` members appended (",\"model\":..." style, leading comma).
std::string WithFields(std::string_view extra) {
  return R"({"messages":[{"role":"user","content":"hi"}])" + std::string(extra) + "}";
}

std::string WithContent(std::string_view content) {
  return R"({"messages":[)" + Message("user", content) + "]}";
}

std::string WithMessages(std::string_view messages_json) {
  return R"({"messages":)" + std::string(messages_json) + "}";
}

// ----------------------------------------------------------------------------------------
// Bodies rejected with exactly one issue.

struct RejectCase {
  std::string name;
  std::string json;
  Loc expected_loc;
  std::string expected_type;
  std::string expected_msg;  // Checked when not empty.
};

class RejectsTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectsTest, ReportsOneIssue) {
  const RejectCase& row = GetParam();
  const CompletionRequestResult result = ParseCompletionRequest(row.json, DefaultLimits());
  ASSERT_FALSE(result.has_value());
  // result.error() returns a copy: keep it alive while `issue` refers into it.
  const std::vector<ValidationIssue> issues = result.error();
  ASSERT_EQ(issues.size(), 1u) << ::testing::PrintToString(issues);
  const ValidationIssue& issue = issues[0];
  EXPECT_EQ(issue.loc, row.expected_loc) << ::testing::PrintToString(issue);
  EXPECT_EQ(issue.type, row.expected_type);
  if (!row.expected_msg.empty()) {
    EXPECT_EQ(issue.msg, row.expected_msg);
  }
}

constexpr std::string_view kEAcute = "\xc3\xa9";         // 2 bytes
constexpr std::string_view kCjk = "\xe4\xb8\xad";        // 3 bytes
constexpr std::string_view kEmoji = "\xf0\x9f\x98\x80";  // 4 bytes

std::vector<RejectCase> RejectCases() {
  const Loc body{"body"};
  const Loc messages{"body", "messages"};
  const Loc role0{"body", "messages", std::int64_t{0}, "role"};
  const Loc content0{"body", "messages", std::int64_t{0}, "content"};
  const Loc system{"body", "system"};
  const Loc model{"body", "model"};
  const Loc max_tokens{"body", "max_tokens"};
  const Loc temperature{"body", "temperature"};
  const Loc cache_system{"body", "cache_system"};
  const std::string model_type_msg =
      "Input should be a valid dictionary or object to extract fields from";
  const std::string too_long_content = "String should have at most 32000 characters";
  const std::string too_long_system = "String should have at most 100000 characters";
  const auto json_at = [](std::int64_t offset) { return Loc{"body", offset}; };
  return {
      // Not JSON at all: one json_invalid at the byte offset where parsing stopped.
      {"EmptyBody", "", json_at(0), "json_invalid", "JSON decode error"},
      {"TruncatedObject", R"({"messages":[)", json_at(13), "json_invalid", ""},
      {"UnclosedArray", R"({"messages":[})", json_at(13), "json_invalid", ""},
      {"TrailingGarbage", WithFields("") + " x", json_at(46), "json_invalid", ""},
      {"TrailingComma", R"({"messages":[],})", json_at(15), "json_invalid", ""},
      {"SingleQuotedKey", "{'messages':[]}", json_at(1), "json_invalid", ""},
      {"InvalidUtf8InContent", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\"}]}",
       json_at(40), "json_invalid", ""},
      {"OverlongUtf8", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc0\xaf\"}]}", json_at(39),
       "json_invalid", ""},
      {"SurrogateUtf8", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xed\xa0\x80\"}]}",
       json_at(39), "json_invalid", ""},
      {"TruncatedUtf8", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xe2\x82\"}]}",
       json_at(39), "json_invalid", ""},
      {"InvalidUtf8InUnknownField", "{\"note\":\"\xff\"," + WithFields("").substr(1), json_at(9),
       "json_invalid", ""},
      // The body is JSON but not an object.
      {"BodyArray", "[]", body, "model_type", model_type_msg},
      {"BodyString", R"("x")", body, "model_type", model_type_msg},
      {"BodyNumber", "1", body, "model_type", model_type_msg},
      {"BodyNull", "null", body, "model_type", model_type_msg},
      {"BodyBool", "true", body, "model_type", model_type_msg},
      // messages
      {"MessagesMissing", "{}", messages, "missing", "Field required"},
      {"MessagesNull", WithMessages("null"), messages, "list_type", "Input should be a valid list"},
      {"MessagesString", WithMessages(R"("hi")"), messages, "list_type", ""},
      {"MessagesObject", WithMessages(Message("user", "hi")), messages, "list_type", ""},
      {"MessagesEmpty", WithMessages("[]"), messages, "too_short",
       "List should have at least 1 item after validation, not 0"},
      {"Messages51", WithMessages(Conversation(51)), messages, "too_long",
       "List should have at most 50 items after validation, not 51"},
      {"Messages60", WithMessages(Conversation(60)), messages, "too_long",
       "List should have at most 50 items after validation, not 60"},
      {"Messages51InvalidItemsOnlyTooLong", WithMessages("[" + Repeat("1,", 50) + "1]"), messages,
       "too_long", ""},
      {"MessageNumber", WithMessages("[1]"), Loc{"body", "messages", std::int64_t{0}}, "model_type",
       model_type_msg},
      {"MessageString", WithMessages(R"(["hi"])"), Loc{"body", "messages", std::int64_t{0}},
       "model_type", ""},
      {"MessageNull", WithMessages("[null]"), Loc{"body", "messages", std::int64_t{0}},
       "model_type", ""},
      {"MessageArray", WithMessages("[[]]"), Loc{"body", "messages", std::int64_t{0}}, "model_type",
       ""},
      {"SecondMessageInvalid", WithMessages("[" + Message("user", "a") + ",7]"),
       Loc{"body", "messages", std::int64_t{1}}, "model_type", ""},
      {"RoleMissing", WithMessages(R"([{"content":"hi"}])"), role0, "missing", "Field required"},
      {"RoleSystem", WithContent("hi").replace(22, 4, "system"), role0, "literal_error",
       "Input should be 'user' or 'assistant'"},
      {"RoleCapitalised", WithMessages(R"([{"role":"User","content":"hi"}])"), role0,
       "literal_error", ""},
      {"RoleNumber", WithMessages(R"([{"role":1,"content":"hi"}])"), role0, "literal_error", ""},
      {"RoleNull", WithMessages(R"([{"role":null,"content":"hi"}])"), role0, "literal_error", ""},
      {"ContentMissing", WithMessages(R"([{"role":"user"}])"), content0, "missing", ""},
      {"ContentNumber", WithMessages(R"([{"role":"user","content":5}])"), content0, "string_type",
       "Input should be a valid string"},
      {"ContentNull", WithMessages(R"([{"role":"user","content":null}])"), content0, "string_type",
       ""},
      {"ContentBlocks", WithMessages(R"([{"role":"user","content":[{"type":"text"}]}])"), content0,
       "string_type", ""},
      {"ContentEmpty", WithContent(""), content0, "string_too_short",
       "String should have at least 1 character"},
      {"Content32001Ascii", WithContent(Repeat("a", 32'001)), content0, "string_too_long",
       too_long_content},
      {"Content32001TwoByte", WithContent(Repeat(kEAcute, 32'001)), content0, "string_too_long",
       too_long_content},
      {"Content32001ThreeByte", WithContent(Repeat(kCjk, 32'001)), content0, "string_too_long",
       too_long_content},
      {"Content32001FourByte", WithContent(Repeat(kEmoji, 32'001)), content0, "string_too_long",
       too_long_content},
      {"Content32001EscapedEmoji", WithContent("").insert(39, Repeat(R"(\ud83d\ude00)", 32'001)),
       content0, "string_too_long", too_long_content},
      {"LastMessageAssistant",
       WithMessages("[" + Message("user", "q") + "," + Message("assistant", "a") + "]"), messages,
       "value_error", "Value error, the last message must have role 'user'"},
      {"OnlyMessageAssistant", WithMessages("[" + Message("assistant", "a") + "]"), messages,
       "value_error", ""},
      // system
      {"SystemNumber", WithFields(R"(,"system":5)"), system, "string_type",
       "Input should be a valid string"},
      {"SystemObject", WithFields(R"(,"system":{"text":"x"})"), system, "string_type", ""},
      {"System100001Ascii", WithFields(R"(,"system":)" + Quote(Repeat("s", 100'001))), system,
       "string_too_long", too_long_system},
      {"System100001FourByte", WithFields(R"(,"system":)" + Quote(Repeat(kEmoji, 100'001))), system,
       "string_too_long", too_long_system},
      // model
      {"ModelEmpty", WithFields(R"(,"model":"")"), model, "string_too_short",
       "String should have at least 1 character"},
      {"ModelNumber", WithFields(R"(,"model":5)"), model, "string_type",
       "Input should be a valid string"},
      {"ModelBool", WithFields(R"(,"model":false)"), model, "string_type", ""},
      // max_tokens
      {"MaxTokensZero", WithFields(R"(,"max_tokens":0)"), max_tokens, "greater_than_equal",
       "Input should be greater than or equal to 1"},
      {"MaxTokensNegative", WithFields(R"(,"max_tokens":-1)"), max_tokens, "greater_than_equal",
       ""},
      {"MaxTokensMinInt64", WithFields(R"(,"max_tokens":-9223372036854775808)"), max_tokens,
       "greater_than_equal", ""},
      {"MaxTokensZeroFloat", WithFields(R"(,"max_tokens":0.0)"), max_tokens, "greater_than_equal",
       ""},
      {"MaxTokensNegativeZero", WithFields(R"(,"max_tokens":-0.0)"), max_tokens,
       "greater_than_equal", ""},
      {"MaxTokensLimitPlusOne", WithFields(R"(,"max_tokens":8097)"), max_tokens, "less_than_equal",
       "Input should be less than or equal to 8096"},
      {"MaxTokensLimitPlusOneFloat", WithFields(R"(,"max_tokens":8097.0)"), max_tokens,
       "less_than_equal", ""},
      {"MaxTokensFraction", WithFields(R"(,"max_tokens":5.5)"), max_tokens, "int_from_float",
       "Input should be a valid integer, got a number with a fractional part"},
      {"MaxTokensTinyFraction", WithFields(R"(,"max_tokens":1.0000001)"), max_tokens,
       "int_from_float", ""},
      {"MaxTokensString", WithFields(R"(,"max_tokens":"5")"), max_tokens, "int_type",
       "Input should be a valid integer"},
      {"MaxTokensTrue", WithFields(R"(,"max_tokens":true)"), max_tokens, "int_type", ""},
      {"MaxTokensNull", WithFields(R"(,"max_tokens":null)"), max_tokens, "int_type", ""},
      {"MaxTokensArray", WithFields(R"(,"max_tokens":[5])"), max_tokens, "int_type", ""},
      {"MaxTokens1e300", WithFields(R"(,"max_tokens":1e300)"), max_tokens, "less_than_equal",
       "Input should be less than or equal to 8096"},
      {"MaxTokensMinus1e300", WithFields(R"(,"max_tokens":-1e300)"), max_tokens,
       "greater_than_equal", ""},
      {"MaxTokens2Pow63", WithFields(R"(,"max_tokens":9223372036854775808)"), max_tokens,
       "less_than_equal", ""},
      {"MaxTokensUint64Max", WithFields(R"(,"max_tokens":18446744073709551615)"), max_tokens,
       "less_than_equal", ""},
      {"MaxTokens2Pow64", WithFields(R"(,"max_tokens":18446744073709551616)"), max_tokens,
       "less_than_equal", ""},
      {"MaxTokensInfinite", WithFields(R"(,"max_tokens":1e400)"), max_tokens, "finite_number",
       "Input should be a finite number"},
      // temperature
      {"TemperatureJustBelowZero", WithFields(R"(,"temperature":-0.0001)"), temperature,
       "greater_than_equal", "Input should be greater than or equal to 0"},
      {"TemperatureMinusOne", WithFields(R"(,"temperature":-1)"), temperature, "greater_than_equal",
       ""},
      {"TemperatureJustAboveOne", WithFields(R"(,"temperature":1.0001)"), temperature,
       "less_than_equal", "Input should be less than or equal to 1"},
      {"TemperatureTwo", WithFields(R"(,"temperature":2)"), temperature, "less_than_equal", ""},
      {"TemperatureHugeInteger", WithFields(R"(,"temperature":18446744073709551615)"), temperature,
       "less_than_equal", ""},
      {"TemperatureInfinite", WithFields(R"(,"temperature":1e400)"), temperature, "less_than_equal",
       ""},
      {"TemperatureString", WithFields(R"(,"temperature":"0.5")"), temperature, "float_type",
       "Input should be a valid number"},
      {"TemperatureBool", WithFields(R"(,"temperature":true)"), temperature, "float_type", ""},
      {"TemperatureArray", WithFields(R"(,"temperature":[])"), temperature, "float_type", ""},
      // cache_system
      {"CacheSystemNumber", WithFields(R"(,"cache_system":1)"), cache_system, "bool_type",
       "Input should be a valid boolean"},
      {"CacheSystemString", WithFields(R"(,"cache_system":"true")"), cache_system, "bool_type", ""},
      {"CacheSystemNull", WithFields(R"(,"cache_system":null)"), cache_system, "bool_type", ""},
      // Duplicate keys: the last one counts, also when it is the bad one.
      {"DuplicateKeyLastInvalid", WithFields(R"(,"model":"ok","model":"")"), model,
       "string_too_short", ""},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, RejectsTest, ::testing::ValuesIn(RejectCases()),
                         [](const ::testing::TestParamInfo<RejectCase>& info) {
                           return info.param.name;
                         });

// ----------------------------------------------------------------------------------------
// Bodies accepted, at and inside every boundary.

struct AcceptCase {
  std::string name;
  std::string json;
};

class AcceptsTest : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(AcceptsTest, Accepts) {
  const CompletionRequestResult result = ParseCompletionRequest(GetParam().json, DefaultLimits());
  EXPECT_TRUE(result.has_value()) << ::testing::PrintToString(result.error());
}

std::vector<AcceptCase> AcceptCases() {
  return {
      {"Minimal", WithFields("")},
      {"SurroundingWhitespace", " \n\t" + WithFields("") + "\r\n "},
      {"Content1", WithContent("x")},
      {"Content32000Ascii", WithContent(Repeat("a", 32'000))},
      {"Content32000TwoByte", WithContent(Repeat(kEAcute, 32'000))},
      {"Content32000ThreeByte", WithContent(Repeat(kCjk, 32'000))},
      {"Content32000FourByte", WithContent(Repeat(kEmoji, 32'000))},
      {"Content32000EscapedNewlines", WithContent(Repeat("\n", 32'000))},
      {"ContentWhitespaceOnly", WithContent(" ")},
      {"Messages1", WithMessages(Conversation(1))},
      {"Messages50", WithMessages(Conversation(50))},
      {"SystemNull", WithFields(R"(,"system":null)")},
      {"SystemEmpty", WithFields(R"(,"system":"")")},
      {"System100000Ascii", WithFields(R"(,"system":)" + Quote(Repeat("s", 100'000)))},
      {"System100000FourByte", WithFields(R"(,"system":)" + Quote(Repeat(kEmoji, 100'000)))},
      {"ModelNull", WithFields(R"(,"model":null)")},
      {"ModelGiven", WithFields(R"(,"model":"claude-haiku-4-5")")},
      {"MaxTokensOne", WithFields(R"(,"max_tokens":1)")},
      {"MaxTokensLimit", WithFields(R"(,"max_tokens":8096)")},
      {"MaxTokensIntegralFloat", WithFields(R"(,"max_tokens":5.0)")},
      {"MaxTokensExponent", WithFields(R"(,"max_tokens":1e3)")},
      {"TemperatureZero", WithFields(R"(,"temperature":0)")},
      {"TemperatureNegativeZero", WithFields(R"(,"temperature":-0.0)")},
      {"TemperatureOne", WithFields(R"(,"temperature":1)")},
      {"TemperatureOnePointZero", WithFields(R"(,"temperature":1.0)")},
      {"TemperatureNull", WithFields(R"(,"temperature":null)")},
      {"CacheSystemTrue", WithFields(R"(,"cache_system":true)")},
      {"UnknownFields", WithFields(R"(,"stream":true,"metadata":{"a":[1,{"b":null}]},"x":"y")")},
      {"UnknownMessageFields",
       WithMessages(R"([{"role":"user","content":"hi","name":"bob","cache":{"x":1}}])")},
      {"DuplicateKeyLastValid", WithFields(R"(,"max_tokens":"bad","max_tokens":5)")},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, AcceptsTest, ::testing::ValuesIn(AcceptCases()),
                         [](const ::testing::TestParamInfo<AcceptCase>& info) {
                           return info.param.name;
                         });

// ----------------------------------------------------------------------------------------
// What an accepted request holds.

TEST(ParseCompletionRequest, AppliesDefaults) {
  const core::CompletionRequest request =
      ParseCompletionRequest(WithFields(""), DefaultLimits()).value();
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].role, core::Role::kUser);
  EXPECT_EQ(request.messages[0].content, "hi");
  EXPECT_FALSE(request.system.has_value());
  EXPECT_EQ(request.model, "claude-sonnet-4-6");
  EXPECT_EQ(request.max_tokens, 1024);
  EXPECT_FALSE(request.temperature.has_value());
  EXPECT_FALSE(request.cache_system);
}

TEST(ParseCompletionRequest, UsesConfiguredLimits) {
  const RequestLimits limits{"other-model", 10, 20};
  EXPECT_EQ(ParseCompletionRequest(WithFields(""), limits).value().model, "other-model");
  EXPECT_EQ(ParseCompletionRequest(WithFields(""), limits).value().max_tokens, 10);
  EXPECT_EQ(ParseCompletionRequest(WithFields(R"(,"max_tokens":20)"), limits).value().max_tokens,
            20);
  const CompletionRequestResult over =
      ParseCompletionRequest(WithFields(R"(,"max_tokens":21)"), limits);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error()[0].msg, "Input should be less than or equal to 20");
}

void ExpectSameRequest(const core::CompletionRequest& a, const core::CompletionRequest& b) {
  ASSERT_EQ(a.messages.size(), b.messages.size());
  for (std::size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(a.messages[i].role, b.messages[i].role);
    EXPECT_EQ(a.messages[i].content, b.messages[i].content);
  }
  EXPECT_EQ(a.system, b.system);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.max_tokens, b.max_tokens);
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.cache_system, b.cache_system);
}

TEST(ParseCompletionRequest, NullModelEqualsExplicitDefault) {
  ExpectSameRequest(
      ParseCompletionRequest(WithFields(R"(,"model":null)"), DefaultLimits()).value(),
      ParseCompletionRequest(WithFields(R"(,"model":"claude-sonnet-4-6")"), DefaultLimits())
          .value());
}

TEST(ParseCompletionRequest, ExplicitDefaultsEqualOmittedOnes) {
  ExpectSameRequest(
      ParseCompletionRequest(WithFields(""), DefaultLimits()).value(),
      ParseCompletionRequest(WithFields(R"(,"system":null,"model":null,"max_tokens":1024,)"
                                        R"("temperature":null,"cache_system":false,"x":1)"),
                             DefaultLimits())
          .value());
}

TEST(ParseCompletionRequest, EmptySystemMeansNoSystem) {
  EXPECT_FALSE(ParseCompletionRequest(WithFields(R"(,"system":"")"), DefaultLimits())
                   .value()
                   .system.has_value());
}

TEST(ParseCompletionRequest, KeepsEveryGivenField) {
  const core::CompletionRequest request =
      ParseCompletionRequest(
          R"({"cache_system":true,"temperature":0.25,"max_tokens":5.0,"model":"m-1",)"
          R"("system":"be brief","messages":[{"role":"user","content":"q1"},)"
          R"({"role":"assistant","content":"a1"},{"content":"q2","role":"user"}]})",
          DefaultLimits())
          .value();
  ASSERT_EQ(request.messages.size(), 3u);
  EXPECT_EQ(request.messages[0].role, core::Role::kUser);
  EXPECT_EQ(request.messages[1].role, core::Role::kAssistant);
  EXPECT_EQ(request.messages[1].content, "a1");
  EXPECT_EQ(request.messages[2].role, core::Role::kUser);
  EXPECT_EQ(request.messages[2].content, "q2");
  EXPECT_EQ(request.system, "be brief");
  EXPECT_EQ(request.model, "m-1");
  EXPECT_EQ(request.max_tokens, 5);
  EXPECT_EQ(request.temperature, 0.25);
  EXPECT_TRUE(request.cache_system);
}

TEST(ParseCompletionRequest, NormalisesNegativeZeroTemperature) {
  const auto request =
      ParseCompletionRequest(WithFields(R"(,"temperature":-0.0)"), DefaultLimits());
  ASSERT_TRUE(request.has_value());
  ASSERT_TRUE(request->temperature.has_value());
  EXPECT_EQ(*request->temperature, 0.0);
  EXPECT_FALSE(std::signbit(*request->temperature));
}

TEST(ParseCompletionRequest, DecodesEscapesInContent) {
  const auto request = ParseCompletionRequest(
      WithContent("").insert(39, R"(line\nbreak \"q\" \u00e9 \ud83d\ude00 \/)"), DefaultLimits());
  ASSERT_TRUE(request.has_value()) << ::testing::PrintToString(request.error());
  EXPECT_EQ(request->messages[0].content, "line\nbreak \"q\" \xc3\xa9 \xf0\x9f\x98\x80 /");
}

TEST(ParseCompletionRequest, KeepsLongContentIntact) {
  const std::string content = Repeat(std::string(kEmoji) + "a\n", 10'000);
  const auto request = ParseCompletionRequest(WithContent(content), DefaultLimits());
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->messages[0].content, content);
}

TEST(ParseCompletionRequest, ReportsEveryIssueInFieldOrder) {
  const CompletionRequestResult result = ParseCompletionRequest(
      R"({"cache_system":"yes","temperature":2,"max_tokens":0,"model":"","system":5,)"
      R"("messages":[{"role":"bot","content":""},7,{"content":5}],"extra":1})",
      DefaultLimits());
  ASSERT_FALSE(result.has_value());
  const std::vector<ValidationIssue> expected = {
      {"literal_error",
       {"body", "messages", std::int64_t{0}, "role"},
       "Input should be 'user' or 'assistant'"},
      {"string_too_short",
       {"body", "messages", std::int64_t{0}, "content"},
       "String should have at least 1 character"},
      {"model_type",
       {"body", "messages", std::int64_t{1}},
       "Input should be a valid dictionary or object to extract fields from"},
      {"missing", {"body", "messages", std::int64_t{2}, "role"}, "Field required"},
      {"string_type",
       {"body", "messages", std::int64_t{2}, "content"},
       "Input should be a valid string"},
      {"string_type", {"body", "system"}, "Input should be a valid string"},
      {"string_too_short", {"body", "model"}, "String should have at least 1 character"},
      {"greater_than_equal", {"body", "max_tokens"}, "Input should be greater than or equal to 1"},
      {"less_than_equal", {"body", "temperature"}, "Input should be less than or equal to 1"},
      {"bool_type", {"body", "cache_system"}, "Input should be a valid boolean"},
  };
  EXPECT_EQ(result.error(), expected);
}

TEST(ParseCompletionRequest, ReportsMissingMessagesWithOtherIssues) {
  const CompletionRequestResult result =
      ParseCompletionRequest(R"({"max_tokens":5.5,"temperature":"hot"})", DefaultLimits());
  ASSERT_FALSE(result.has_value());
  const std::vector<ValidationIssue> expected = {
      {"missing", {"body", "messages"}, "Field required"},
      {"int_from_float",
       {"body", "max_tokens"},
       "Input should be a valid integer, got a number with a fractional part"},
      {"float_type", {"body", "temperature"}, "Input should be a valid number"},
  };
  EXPECT_EQ(result.error(), expected);
}

TEST(ParseCompletionRequest, SkipsLastRoleRuleWhenAnItemIsInvalid) {
  const CompletionRequestResult result = ParseCompletionRequest(
      WithMessages("[" + Message("user", "") + "," + Message("assistant", "a") + "]"),
      DefaultLimits());
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].type, "string_too_short");
}

TEST(ParseCompletionRequest, ValueThrowsOnInvalidBody) {
  EXPECT_THROW((void)ParseCompletionRequest("[]", DefaultLimits()).value(), std::invalid_argument);
}

}  // namespace
}  // namespace cms::api
