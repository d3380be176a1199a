#include "config/dotenv.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace cms::config {
namespace {

struct ValueCase {
  std::string_view name;
  std::string_view text;  // One line of a .env file.
  std::string_view key;
  std::string_view value;
};

class DotenvValueTest : public testing::TestWithParam<ValueCase> {};

TEST_P(DotenvValueTest, ParsesTheLine) {
  const auto contents = ParseDotenv(GetParam().text);
  ASSERT_TRUE(contents.problems.empty()) << contents.problems[0].message;
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].key, GetParam().key);
  EXPECT_EQ(contents.entries[0].value, GetParam().value);
  EXPECT_EQ(contents.entries[0].line, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, DotenvValueTest,
    testing::Values(
        ValueCase{"Plain", "KEY=value", "KEY", "value"}, ValueCase{"Empty", "KEY=", "KEY", ""},
        ValueCase{"UnderscoreAndDigits", "_A1_b2=x", "_A1_b2", "x"},
        ValueCase{"UnquotedTrimmed", "KEY=   spaced value \t", "KEY", "spaced value"},
        ValueCase{"BlanksAroundEquals", "  KEY  =  v  ", "KEY", "v"},
        ValueCase{"InlineComment", "KEY=value # a comment", "KEY", "value"},
        ValueCase{"InlineCommentAfterTab", "KEY=value\t#c", "KEY", "value"},
        ValueCase{"HashWithoutBlankIsValue", "KEY=pa#ss", "KEY", "pa#ss"},
        ValueCase{"HashFirstIsValue", "KEY=#notcomment", "KEY", "#notcomment"},
        ValueCase{"OnlyComment", "KEY= # nothing", "KEY", ""},
        ValueCase{"EqualsInValue", "URL=http://h/?a=b", "URL", "http://h/?a=b"},
        ValueCase{"Export", "export KEY=value", "KEY", "value"},
        ValueCase{"ExportTab", "export\tKEY=value", "KEY", "value"},
        ValueCase{"ExportAsName", "export=1", "export", "1"},
        ValueCase{"ExportPrefixedName", "exported=1", "exported", "1"},
        ValueCase{"SingleQuotedLiteral", R"(KEY='a \n "b" # c $d')", "KEY", R"(a \n "b" # c $d)"},
        ValueCase{"SingleQuotedEmpty", "KEY=''", "KEY", ""},
        ValueCase{"SingleQuotedThenComment", "KEY='v'  # comment", "KEY", "v"},
        ValueCase{"DoubleQuotedKeepsBlanks", R"(KEY="  a  ")", "KEY", "  a  "},
        ValueCase{"DoubleQuotedEscapes", R"(KEY="l1\nl2\t\"q\" \\ \' \r")", "KEY",
                  "l1\nl2\t\"q\" \\ ' \r"},
        ValueCase{"DoubleQuotedUnknownEscapeKept", R"(KEY="C:\dir\x")", "KEY", R"(C:\dir\x)"},
        ValueCase{"DoubleQuotedHash", R"(KEY="a # b")", "KEY", "a # b"},
        ValueCase{"DoubleQuotedThenComment", R"(KEY="v" # c)", "KEY", "v"},
        ValueCase{"DoubleQuotedEmpty", R"(KEY="")", "KEY", ""},
        ValueCase{"QuoteInsideUnquoted", R"(KEY=it's)", "KEY", "it's"},
        ValueCase{"CrLf", "KEY=value\r\n", "KEY", "value"},
        ValueCase{"Utf8", "KEY=caf\xC3\xA9", "KEY", "caf\xC3\xA9"},
        ValueCase{"ByteOrderMark", "\xEF\xBB\xBFKEY=v", "KEY", "v"}),
    [](const testing::TestParamInfo<ValueCase>& info) { return std::string(info.param.name); });

TEST(DotenvTest, SkipsBlankAndCommentLinesAndKeepsOrderAndLineNumbers) {
  const auto contents = ParseDotenv(
      "# settings\n"
      "\n"
      "B=2\n"
      "   \n"
      "  # indented comment\n"
      "A=1\n"
      "B=3");
  EXPECT_TRUE(contents.problems.empty());
  ASSERT_EQ(contents.entries.size(), 3u);
  EXPECT_EQ(contents.entries[0].key, "B");
  EXPECT_EQ(contents.entries[0].value, "2");
  EXPECT_EQ(contents.entries[0].line, 3u);
  EXPECT_EQ(contents.entries[1].key, "A");
  EXPECT_EQ(contents.entries[1].line, 6u);
  EXPECT_EQ(contents.entries[2].key, "B");
  EXPECT_EQ(contents.entries[2].value, "3");
  EXPECT_EQ(contents.entries[2].line, 7u);
}

TEST(DotenvTest, EmptyTextHasNothing) {
  const auto contents = ParseDotenv("");
  EXPECT_TRUE(contents.entries.empty());
  EXPECT_TRUE(contents.problems.empty());
}

struct MalformedCase {
  std::string_view name;
  std::string_view text;
  std::string_view message;
};

class DotenvMalformedTest : public testing::TestWithParam<MalformedCase> {};

TEST_P(DotenvMalformedTest, ReportsTheProblemWithoutTheValue) {
  const std::string text = "OK=1\n" + std::string(GetParam().text) + "\nALSO_OK=2\n";
  const auto contents = ParseDotenv(text);
  ASSERT_EQ(contents.problems.size(), 1u);
  EXPECT_EQ(contents.problems[0].line, 2u);
  EXPECT_EQ(contents.problems[0].message, GetParam().message);
  EXPECT_EQ(contents.problems[0].message.find("s3cr3t"), std::string::npos);
  ASSERT_EQ(contents.entries.size(), 2u);  // Parsing went on around the bad line.
  EXPECT_EQ(contents.entries[1].key, "ALSO_OK");
  EXPECT_EQ(contents.entries[1].line, 3u);
}

constexpr std::string_view kBadName =
    "invalid variable name (letters, digits and underscores, not starting with a digit)";

INSTANTIATE_TEST_SUITE_P(
    Lines, DotenvMalformedTest,
    testing::Values(MalformedCase{"NoEquals", "sk-ant-s3cr3t", "expected KEY=VALUE"},
                    MalformedCase{"ExportWithoutAssignment", "export s3cr3t", "expected KEY=VALUE"},
                    MalformedCase{"EmptyName", "=s3cr3t", kBadName},
                    MalformedCase{"NameStartsWithDigit", "1KEY=s3cr3t", kBadName},
                    MalformedCase{"NameWithDash", "MY-KEY=s3cr3t", kBadName},
                    MalformedCase{"NameWithInnerBlank", "MY KEY=s3cr3t", kBadName},
                    MalformedCase{"UnterminatedDouble", "API_KEY=\"s3cr3t",
                                  "unterminated double-quoted value for API_KEY"},
                    MalformedCase{"DoubleEndsWithEscapedQuote", R"(API_KEY="s3cr3t\")",
                                  "unterminated double-quoted value for API_KEY"},
                    MalformedCase{"UnterminatedSingle", "API_KEY='s3cr3t",
                                  "unterminated single-quoted value for API_KEY"},
                    MalformedCase{"TextAfterDouble", R"(API_KEY="s3cr3t" more)",
                                  "unexpected text after the closing quote of API_KEY"},
                    MalformedCase{"TextAfterSingle", "API_KEY='a'b s3cr3t",
                                  "unexpected text after the closing quote of API_KEY"}),
    [](const testing::TestParamInfo<MalformedCase>& info) { return std::string(info.param.name); });

TEST(DotenvTest, ReportsEveryMalformedLine) {
  const auto contents = ParseDotenv("A=1\nbad line\nB=\"open\nC=3\n4D=x\n");
  ASSERT_EQ(contents.problems.size(), 3u);
  EXPECT_EQ(contents.problems[0].line, 2u);
  EXPECT_EQ(contents.problems[1].line, 3u);
  EXPECT_EQ(contents.problems[2].line, 5u);
  ASSERT_EQ(contents.entries.size(), 2u);
  EXPECT_EQ(contents.entries[0].key, "A");
  EXPECT_EQ(contents.entries[1].key, "C");
}

class ReadDotenvFileTest : public testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::path(testing::TempDir()) /
        ("dotenv_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_;
};

TEST_F(ReadDotenvFileTest, MissingFileIsEmptyNotAnError) {
  const auto contents = ReadDotenvFile(directory_ / "absent.env");
  ASSERT_TRUE(contents.has_value());
  EXPECT_TRUE(contents->entries.empty());
  EXPECT_TRUE(contents->problems.empty());
}

TEST_F(ReadDotenvFileTest, ReadsAndParsesAFile) {
  const auto path = directory_ / ".env";
  {
    std::ofstream file(path, std::ios::binary);
    file << "# dev\nPORT=9000\nexport LOG_LEVEL='debug'\nbroken\n";
    // A file longer than one read buffer.
    file << "LONG=" << std::string(10000, 'x') << "\n";
  }
  const auto contents = ReadDotenvFile(path);
  ASSERT_TRUE(contents.has_value());
  ASSERT_EQ(contents->entries.size(), 3u);
  EXPECT_EQ(contents->entries[0].key, "PORT");
  EXPECT_EQ(contents->entries[0].value, "9000");
  EXPECT_EQ(contents->entries[1].key, "LOG_LEVEL");
  EXPECT_EQ(contents->entries[1].value, "debug");
  EXPECT_EQ(contents->entries[2].value, std::string(10000, 'x'));
  ASSERT_EQ(contents->problems.size(), 1u);
  EXPECT_EQ(contents->problems[0].line, 4u);
}

TEST_F(ReadDotenvFileTest, UnreadablePathIsAnError) {
  // A directory cannot be read as a file, even by root (unlike a chmod 000 file).
  const auto contents = ReadDotenvFile(directory_);
  ASSERT_FALSE(contents.has_value());
  EXPECT_EQ(contents.error(), boost::system::errc::is_a_directory);
}

}  // namespace
}  // namespace cms::config
