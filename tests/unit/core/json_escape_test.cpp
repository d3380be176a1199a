#include "core/json_escape.hpp"

#include <random>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

namespace cms::core {
namespace {

struct EscapeCase {
  std::string name;
  std::string input;
  std::string expected_literal;
};

class AppendJsonStringTest : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(AppendJsonStringTest, WritesLiteralThatParsesBackToInput) {
  std::string out = "prefix:";
  AppendJsonString(out, GetParam().input);
  EXPECT_EQ(out, "prefix:" + GetParam().expected_literal);
  const boost::json::value parsed = boost::json::parse(GetParam().expected_literal);
  EXPECT_EQ(std::string(parsed.as_string()), GetParam().input);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AppendJsonStringTest,
    ::testing::Values(EscapeCase{"Empty", "", R"("")"},
                      EscapeCase{"Plain", "hello world", R"("hello world")"},
                      EscapeCase{"Quote", R"(say "hi")", R"("say \"hi\"")"},
                      EscapeCase{"Backslash", R"(C:\dir)", R"("C:\\dir")"},
                      EscapeCase{"NamedControls", "a\nb\rc\td\be\ff", R"("a\nb\rc\td\be\ff")"},
                      EscapeCase{"OtherControls", std::string("\x01\x1f", 2), R"("\u0001\u001f")"},
                      EscapeCase{"Nul", std::string("a\0b", 3), R"("a\u0000b")"},
                      EscapeCase{"DelUnescaped", "\x7f", "\"\x7f\""},
                      EscapeCase{"SlashUnescaped", "a/b", R"("a/b")"},
                      EscapeCase{"UnicodeRaw", "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
                                 "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\""},
                      EscapeCase{"LineSeparatorRaw", "\xe2\x80\xa8", "\"\xe2\x80\xa8\""},
                      EscapeCase{"EscapeAtEnds", "\"mid\"", R"("\"mid\"")"}),
    [](const ::testing::TestParamInfo<EscapeCase>& info) { return info.param.name; });

TEST(AppendJsonString, RoundTripsEveryByteBelow0x80) {
  std::string input;
  for (int c = 0; c < 0x80; ++c) input.push_back(static_cast<char>(c));
  std::string out;
  AppendJsonString(out, input);
  EXPECT_EQ(std::string(boost::json::parse(out).as_string()), input);
}

TEST(AppendJsonString, RoundTripsRandomTextAtEveryAlignment) {
  const std::vector<std::string> pieces = {
      "a",        "bcdefghij",       "\"", "\\", "\n", "\x01", "\x1f", " ", "\x7f",
      "\xc3\xa9", "\xf0\x9f\x98\x80"};
  std::mt19937 random(7);
  for (int round = 0; round < 500; ++round) {
    std::string input;
    const int count = static_cast<int>(random() % 40);
    for (int i = 0; i < count; ++i) input += pieces[random() % pieces.size()];
    std::string out;
    AppendJsonString(out, input);
    ASSERT_EQ(std::string(boost::json::parse(out).as_string()), input);
    // Only the escapes add bytes: a clean input is copied verbatim between the quotes.
    if (input.find_first_of(std::string("\"\\\n\x01\x1f", 5)) == std::string::npos) {
      ASSERT_EQ(out, "\"" + input + "\"");
    }
  }
}

}  // namespace
}  // namespace cms::core
