#include "observability/memory_logger.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cms::observability {
namespace {

std::vector<std::string> Keys(const boost::json::object& line) {
  std::vector<std::string> keys;
  for (const auto& entry : line) keys.emplace_back(entry.key());
  return keys;
}

TEST(MemoryLoggerTest, KeepsLinesShapedLikeTheJsonLineWithoutTimestamp) {
  MemoryLogger logger;
  logger.Info("http_request", "req-1", {{"method", "POST"}, {"status", 200}});

  const auto lines = logger.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]),
            (std::vector<std::string>{"level", "event", "request_id", "method", "status"}));
  EXPECT_EQ(lines[0].at("level"), "INFO");
  EXPECT_EQ(lines[0].at("event"), "http_request");
  EXPECT_EQ(lines[0].at("request_id"), "req-1");
  EXPECT_EQ(lines[0].at("method"), "POST");
  EXPECT_EQ(lines[0].at("status").as_int64(), 200);
}

TEST(MemoryLoggerTest, OmitsEmptyRequestId) {
  MemoryLogger logger;
  logger.Info("service_startup", "");
  ASSERT_EQ(logger.Lines().size(), 1u);
  EXPECT_FALSE(logger.Lines()[0].contains("request_id"));
}

TEST(MemoryLoggerTest, RenamesFieldsThatCollideWithReservedKeys) {
  MemoryLogger logger;
  logger.Warning("odd", "r", {{"event", "inner"}, {"request_id", "other"}});
  const auto line = logger.Lines().at(0);
  EXPECT_EQ(line.at("event"), "odd");
  EXPECT_EQ(line.at("request_id"), "r");
  EXPECT_EQ(line.at("field_event"), "inner");
  EXPECT_EQ(line.at("field_request_id"), "other");
}

TEST(MemoryLoggerTest, CountsAndFiltersByEvent) {
  MemoryLogger logger;
  logger.Info("cache_hit", "a");
  logger.Info("cache_miss", "b");
  logger.Error("cache_hit", "c");

  EXPECT_EQ(logger.Count("cache_hit"), 2u);
  EXPECT_EQ(logger.Count("cache_miss"), 1u);
  EXPECT_EQ(logger.Count("stream_end"), 0u);
  const auto hits = logger.LinesWithEvent("cache_hit");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].at("request_id"), "a");
  EXPECT_EQ(hits[1].at("request_id"), "c");
  EXPECT_EQ(hits[1].at("level"), "ERROR");
}

TEST(MemoryLoggerTest, DiscardsEventsBelowThreshold) {
  MemoryLogger logger(LogLevel::kWarning);
  EXPECT_FALSE(logger.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(logger.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger.Enabled(LogLevel::kWarning));
  EXPECT_TRUE(logger.Enabled(LogLevel::kError));

  logger.Debug("d", "");
  logger.Info("i", "");
  logger.Warning("w", "");
  logger.Error("e", "");
  logger.Write(LogLevel::kInfo, "direct_write_below_threshold", "", {});

  const auto lines = logger.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("event"), "w");
  EXPECT_EQ(lines[1].at("event"), "e");
}

TEST(MemoryLoggerTest, DefaultKeepsDebug) {
  MemoryLogger logger;
  logger.Debug("d", "");
  EXPECT_EQ(logger.Count("d"), 1u);
}

TEST(MemoryLoggerTest, ClearForgetsLines) {
  MemoryLogger logger;
  logger.Info("x", "");
  logger.Clear();
  EXPECT_TRUE(logger.Lines().empty());
  EXPECT_EQ(logger.Count("x"), 0u);
}

TEST(MemoryLoggerTest, KeepsEveryLineFromConcurrentWriters) {
  MemoryLogger logger;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kPerThread; ++i) logger.Info("tick", "", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(logger.Count("tick"), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace cms::observability
