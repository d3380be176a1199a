#include "observability/logger.hpp"

#include <optional>
#include <string_view>

#include <gtest/gtest.h>

namespace cms::observability {
namespace {

TEST(LogLevelNameTest, NamesEveryLevelAsTheContractSpellsIt) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "DEBUG");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "INFO");
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "WARNING");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "ERROR");
}

struct ParseCase {
  std::string_view text;
  std::optional<LogLevel> expected;
};

class ParseLogLevelTest : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseLogLevelTest, ParsesAcceptedSpellingsOnly) {
  EXPECT_EQ(ParseLogLevel(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, ParseLogLevelTest,
    testing::Values(ParseCase{"DEBUG", LogLevel::kDebug}, ParseCase{"debug", LogLevel::kDebug},
                    ParseCase{"INFO", LogLevel::kInfo}, ParseCase{"Info", LogLevel::kInfo},
                    ParseCase{"WARNING", LogLevel::kWarning},
                    ParseCase{"warning", LogLevel::kWarning}, ParseCase{"WARN", LogLevel::kWarning},
                    ParseCase{"wArN", LogLevel::kWarning}, ParseCase{"ERROR", LogLevel::kError},
                    ParseCase{"error", LogLevel::kError}, ParseCase{"", std::nullopt},
                    ParseCase{"TRACE", std::nullopt}, ParseCase{"CRITICAL", std::nullopt},
                    ParseCase{" INFO", std::nullopt}, ParseCase{"INFO ", std::nullopt},
                    ParseCase{"ERR", std::nullopt}, ParseCase{"WARNINGS", std::nullopt}));

}  // namespace
}  // namespace cms::observability
