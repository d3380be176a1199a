#include "observability/logger.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Records what reaches Write(); the threshold is the one thing it shares with real loggers.
class SpyLogger final : public Logger {
 public:
  explicit SpyLogger(LogLevel threshold) : threshold_(threshold) {}
  bool Enabled(LogLevel level) const override {
    ++enabled_calls;
    return level >= threshold_;
  }
  void Write(LogLevel level, std::string_view event, std::string_view request_id,
             LogFields fields) override {
    events.emplace_back(event);
    levels.push_back(level);
    request_ids.emplace_back(request_id);
    field_counts.push_back(fields.size());
    if (!fields.empty()) first_keys.emplace_back(fields.front().key);
  }

  mutable int enabled_calls = 0;
  std::vector<std::string> events;
  std::vector<LogLevel> levels;
  std::vector<std::string> request_ids;
  std::vector<std::size_t> field_counts;
  std::vector<std::string> first_keys;

 private:
  const LogLevel threshold_;
};

TEST(LoggerTest, LevelMethodsWriteOnlyAtOrAboveTheThreshold) {
  SpyLogger logger(LogLevel::kWarning);
  logger.Debug("d", "r", {{"k", 1}});
  logger.Info("i", "r", {{"k", 1}});
  logger.Warning("w", "r", {{"k", 1}});
  logger.Error("e", "r", {{"k", 1}});
  EXPECT_EQ(logger.enabled_calls, 4);
  EXPECT_EQ(logger.events, (std::vector<std::string>{"w", "e"}));
  EXPECT_EQ(logger.levels, (std::vector<LogLevel>{LogLevel::kWarning, LogLevel::kError}));
}

TEST(LoggerTest, PassesEventRequestIdAndFieldsThrough) {
  SpyLogger logger(LogLevel::kDebug);
  const std::string model = "m";
  logger.Info("anthropic_request", "req-1",
              {{"model", model}, {"stream", true}, {"max_tokens", std::int64_t{64}}});
  logger.Debug("no_fields", "");
  logger.Info("empty_fields", "req-2", {});
  EXPECT_EQ(logger.events,
            (std::vector<std::string>{"anthropic_request", "no_fields", "empty_fields"}));
  EXPECT_EQ(logger.request_ids, (std::vector<std::string>{"req-1", "", "req-2"}));
  EXPECT_EQ(logger.field_counts, (std::vector<std::size_t>{3, 0, 0}));
  EXPECT_EQ(logger.first_keys, (std::vector<std::string>{"model"}));
}

}  // namespace
}  // namespace cms::observability
