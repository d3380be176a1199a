#include "api/request_document.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace cms::api {
namespace {

JsonNode ParseOk(std::string_view body) {
  auto parsed = ParseRequestDocument(body);
  EXPECT_TRUE(parsed.has_value()) << "offset " << (parsed ? 0 : parsed.error().offset);
  return parsed ? std::move(*parsed) : JsonNode{};
}

TEST(ParseRequestDocument, KeepsKnownFieldsAndDropsUnknownOnes) {
  JsonNode root = ParseOk(
      R"({"stream":true,"model":"m","metadata":{"user":"u"},"max_tokens":5,"temperature":0.5,)"
      R"("cache_system":false,"system":null,"messages":[]})");
  ASSERT_EQ(root.kind, JsonKind::kObject);
  EXPECT_EQ(root.size, 8u);
  ASSERT_EQ(root.members.size(), 6u);
  EXPECT_EQ(root.Find("stream"), nullptr);
  EXPECT_EQ(root.Find("metadata"), nullptr);
  ASSERT_NE(root.Find("model"), nullptr);
  EXPECT_EQ(root.Find("model")->string, "m");
  EXPECT_EQ(root.Find("max_tokens")->kind, JsonKind::kInt64);
  EXPECT_EQ(root.Find("max_tokens")->int64, 5);
  EXPECT_EQ(root.Find("temperature")->kind, JsonKind::kDouble);
  EXPECT_EQ(root.Find("temperature")->number, 0.5);
  EXPECT_EQ(root.Find("cache_system")->kind, JsonKind::kBool);
  EXPECT_EQ(root.Find("system")->kind, JsonKind::kNull);
  EXPECT_EQ(root.Find("messages")->kind, JsonKind::kArray);
  EXPECT_EQ(root.Find("messages")->size, 0u);
}

TEST(ParseRequestDocument, KeepsOnlyRoleAndContentOfMessages) {
  JsonNode root =
      ParseOk(R"({"messages":[{"role":"user","content":"hi","name":"n","extra":{"a":[1]}},)"
              R"("text",[1,2],{"content":{"nested":"x"}}]})");
  JsonNode* messages = root.Find("messages");
  ASSERT_NE(messages, nullptr);
  ASSERT_EQ(messages->items.size(), 4u);
  const JsonNode& first = messages->items[0];
  EXPECT_EQ(first.size, 4u);
  ASSERT_EQ(first.members.size(), 2u);
  EXPECT_EQ(first.members[0].key, "role");
  EXPECT_EQ(first.members[0].value.string, "user");
  EXPECT_EQ(first.members[1].key, "content");
  EXPECT_EQ(first.members[1].value.string, "hi");
  EXPECT_EQ(messages->items[1].kind, JsonKind::kString);
  EXPECT_EQ(messages->items[2].kind, JsonKind::kArray);
  EXPECT_EQ(messages->items[2].size, 2u);
  EXPECT_TRUE(messages->items[2].items.empty());
  const JsonNode* content = messages->items[3].Find("content");
  ASSERT_NE(content, nullptr);
  EXPECT_EQ(content->kind, JsonKind::kObject);
  EXPECT_TRUE(content->members.empty());
}

TEST(ParseRequestDocument, CountsEveryMessageButKeepsAtMostFifty) {
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 1000; ++i) body += i == 0 ? "0" : ",0";
  body += "]}";
  JsonNode root = ParseOk(body);
  EXPECT_EQ(root.Find("messages")->size, 1000u);
  EXPECT_EQ(root.Find("messages")->items.size(), kMaxRetainedMessages);
}

TEST(ParseRequestDocument, LastDuplicateKeyWins) {
  JsonNode root = ParseOk(R"({"model":"first","model":5,"model":"last","messages":[1],)"
                          R"("messages":[{"role":"x","role":"user"}]})");
  ASSERT_EQ(root.members.size(), 2u);
  EXPECT_EQ(root.Find("model")->kind, JsonKind::kString);
  EXPECT_EQ(root.Find("model")->string, "last");
  const JsonNode* messages = root.Find("messages");
  ASSERT_EQ(messages->items.size(), 1u);
  ASSERT_EQ(messages->items[0].members.size(), 1u);
  EXPECT_EQ(messages->items[0].members[0].value.string, "user");
}

TEST(ParseRequestDocument, IgnoresLongAndNearMissKeys) {
  JsonNode root = ParseOk(R"({"messages_and_more_than_sixteen_bytes":[1],"messagesx":[1],)"
                          R"("Model":"m","model":"kept"})");
  ASSERT_EQ(root.members.size(), 1u);
  EXPECT_EQ(root.Find("model")->string, "kept");
}

TEST(ParseRequestDocument, UnescapesKeptStrings) {
  JsonNode root = ParseOk(R"({"system":"a\nb \"q\" \u00e9 \ud83d\ude00 \\"})");
  EXPECT_EQ(root.Find("system")->string, "a\nb \"q\" \xc3\xa9 \xf0\x9f\x98\x80 \\");
}

TEST(ParseRequestDocument, AssemblesLongEscapedStringsFromParts) {
  std::string body = R"({"system":")";
  std::string expected;
  for (int i = 0; i < 50'000; ++i) {
    body += "ab\\n";
    expected += "ab\n";
  }
  body += "\"}";
  JsonNode root = ParseOk(body);
  EXPECT_EQ(root.Find("system")->string, expected);
}

TEST(ParseRequestDocument, KeepsTopLevelScalarKindOnly) {
  JsonNode root = ParseOk(R"("some text")");
  EXPECT_EQ(root.kind, JsonKind::kString);
  EXPECT_TRUE(root.string.empty());
  EXPECT_EQ(ParseOk("[1,2,3]").size, 3u);
  EXPECT_EQ(ParseOk("null").kind, JsonKind::kNull);
  EXPECT_EQ(ParseOk("-7").int64, -7);
}

TEST(ParseRequestDocument, ClassifiesNumbers) {
  JsonNode root = ParseOk(R"({"max_tokens":18446744073709551615})");
  EXPECT_EQ(root.Find("max_tokens")->kind, JsonKind::kUint64);
  root = ParseOk(R"({"max_tokens":18446744073709551616})");
  EXPECT_EQ(root.Find("max_tokens")->kind, JsonKind::kDouble);
  root = ParseOk(R"({"max_tokens":5.0})");
  EXPECT_EQ(root.Find("max_tokens")->kind, JsonKind::kDouble);
  root = ParseOk(R"({"max_tokens":-9223372036854775808})");
  EXPECT_EQ(root.Find("max_tokens")->kind, JsonKind::kInt64);
}

struct SyntaxCase {
  std::string name;
  std::string body;
  std::size_t offset;
};

class SyntaxErrorTest : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(SyntaxErrorTest, ReportsOffset) {
  const auto parsed = ParseRequestDocument(GetParam().body);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().offset, GetParam().offset);
  EXPECT_TRUE(parsed.error().reason.failed());
}

INSTANTIATE_TEST_SUITE_P(
    Table, SyntaxErrorTest,
    ::testing::Values(SyntaxCase{"Empty", "", 0}, SyntaxCase{"OnlyWhitespace", "  \n", 3},
                      SyntaxCase{"Truncated", R"({"a":)", 5},
                      SyntaxCase{"TrailingGarbage", R"({"a":1} x)", 8},
                      SyntaxCase{"TwoValues", "{}{}", 2}, SyntaxCase{"TrailingComma", "[1,]", 3},
                      SyntaxCase{"Comment", "/*c*/{}", 0}, SyntaxCase{"SingleQuotes", "{'a':1}", 1},
                      SyntaxCase{"NaN", R"({"temperature":NaN})", 15},
                      SyntaxCase{"InvalidUtf8", "{\"system\":\"ab\xff\"}", 13},
                      SyntaxCase{"InvalidUtf8InUnknownField", "{\"zz\":\"\xc0\xaf\"}", 7},
                      SyntaxCase{"LoneSurrogateEscape", R"({"system":"\ud800"})", 17},
                      SyntaxCase{"ByteOrderMark", "\xef\xbb\xbf{}", 0}),
    [](const ::testing::TestParamInfo<SyntaxCase>& info) { return info.param.name; });

TEST(ParseRequestDocument, ValueThrowsOnSyntaxError) {
  EXPECT_THROW((void)ParseRequestDocument("{").value(), std::invalid_argument);
}

TEST(ParseRequestDocument, LimitsNestingDepth) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_TRUE(ParseRequestDocument(nested(kMaxJsonDepth)).has_value());
  EXPECT_FALSE(ParseRequestDocument(nested(kMaxJsonDepth + 1)).has_value());
}

}  // namespace
}  // namespace cms::api
