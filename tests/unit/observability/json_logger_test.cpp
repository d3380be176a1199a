#include "observability/json_logger.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace cms::observability {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-11-29T05:00:00.123Z
system_clock::time_point FixedTime() {
  return system_clock::time_point{std::chrono::seconds{1795928400} + milliseconds{123}};
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Keys(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& entry : object) keys.emplace_back(entry.key());
  return keys;
}

// A JsonLogger writing into a string, with a fixed clock.
class JsonLoggerTest : public testing::Test {
 protected:
  std::unique_ptr<JsonLogger> MakeLogger(LogLevel level = LogLevel::kDebug) {
    return std::make_unique<JsonLogger>(JsonLoggerOptions{
        .level = level,
        .sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(output_),
        .queue_capacity = 16384,
        .clock = [] { return FixedTime(); },
    });
  }

  std::vector<boost::json::object> ParsedLines() const {
    std::vector<boost::json::object> parsed;
    for (const auto& line : SplitLines(output_.str())) {
      parsed.push_back(boost::json::parse(line).as_object());
    }
    return parsed;
  }

  std::ostringstream output_;
};

TEST_F(JsonLoggerTest, WritesOneObjectPerLineWithKeysInContractOrder) {
  auto logger = MakeLogger();
  logger->Info(
      "http_request", "req-42",
      {{"method", "POST"}, {"path", "/v1/completions"}, {"status", 200}, {"latency_ms", 12.5}});
  ASSERT_TRUE(logger->Flush());

  const std::string text = output_.str();
  EXPECT_EQ(text,
            R"({"timestamp":"2026-11-29T05:00:00.123Z","level":"INFO","event":"http_request",)"
            R"("request_id":"req-42","method":"POST","path":"/v1/completions","status":200,)"
            R"("latency_ms":12.5})"
            "\n");
  const auto lines = ParsedLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]), (std::vector<std::string>{"timestamp", "level", "event", "request_id",
                                                      "method", "path", "status", "latency_ms"}));
  EXPECT_DOUBLE_EQ(lines[0].at("latency_ms").as_double(), 12.5);
}

TEST_F(JsonLoggerTest, KeepsFieldInsertionOrderNotAlphabetical) {
  auto logger = MakeLogger();
  logger->Info("e", "", {{"zeta", 1}, {"alpha", 2}, {"mid", 3}});
  ASSERT_TRUE(logger->Flush());
  EXPECT_EQ(Keys(ParsedLines().at(0)),
            (std::vector<std::string>{"timestamp", "level", "event", "zeta", "alpha", "mid"}));
}

TEST_F(JsonLoggerTest, NamesEachLevel) {
  auto logger = MakeLogger(LogLevel::kDebug);
  logger->Debug("a", "");
  logger->Info("b", "");
  logger->Warning("c", "");
  logger->Error("d", "");
  ASSERT_TRUE(logger->Flush());
  const auto lines = ParsedLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].at("level"), "DEBUG");
  EXPECT_EQ(lines[1].at("level"), "INFO");
  EXPECT_EQ(lines[2].at("level"), "WARNING");
  EXPECT_EQ(lines[3].at("level"), "ERROR");
}

TEST_F(JsonLoggerTest, OmitsRequestIdWhenEmpty) {
  auto logger = MakeLogger();
  logger->Info("service_startup", "", {{"environment", "development"}});
  ASSERT_TRUE(logger->Flush());
  const auto line = ParsedLines().at(0);
  EXPECT_FALSE(line.contains("request_id"));
  EXPECT_EQ(Keys(line), (std::vector<std::string>{"timestamp", "level", "event", "environment"}));
}

TEST_F(JsonLoggerTest, EscapesStringsSoEveryEventStaysOnOneLine) {
  auto logger = MakeLogger();
  const std::string tricky = "quote\" backslash\\ newline\n tab\t cr\r nul\x01 caf\xC3\xA9";
  logger->Error("unhandled_exception", "id\"1", {{"what", tricky}, {tricky, "as key"}});
  ASSERT_TRUE(logger->Flush());

  const auto raw_lines = SplitLines(output_.str());
  ASSERT_EQ(raw_lines.size(), 1u);
  EXPECT_EQ(raw_lines[0].find('\r'), std::string::npos);
  EXPECT_EQ(raw_lines[0].find('\t'), std::string::npos);
  const auto line = ParsedLines().at(0);
  EXPECT_EQ(line.at("request_id"), "id\"1");
  EXPECT_EQ(line.at("what").as_string(), tricky);
  EXPECT_EQ(line.at(tricky), "as key");
}

TEST_F(JsonLoggerTest, PrefixesFieldsNamedLikeReservedKeys) {
  auto logger = MakeLogger();
  logger->Info("e", "rid",
               {{"timestamp", "mine"},
                {"level", 7},
                {"field_level", "already taken"},
                {"event", "x"},
                {"request_id", "y"}});
  ASSERT_TRUE(logger->Flush());
  const auto line = ParsedLines().at(0);
  EXPECT_EQ(Keys(line),
            (std::vector<std::string>{"timestamp", "level", "event", "request_id",
                                      "field_timestamp", "field_field_level", "field_level",
                                      "field_event", "field_request_id"}));
  EXPECT_EQ(line.at("timestamp"), "2026-11-29T05:00:00.123Z");
  EXPECT_EQ(line.at("level"), "INFO");
  EXPECT_EQ(line.at("field_timestamp"), "mine");
  EXPECT_EQ(line.at("field_field_level").as_int64(), 7);
  EXPECT_EQ(line.at("field_level"), "already taken");
  EXPECT_EQ(line.at("field_event"), "x");
  EXPECT_EQ(line.at("field_request_id"), "y");
}

TEST_F(JsonLoggerTest, FiltersBelowThreshold) {
  auto logger = MakeLogger(LogLevel::kWarning);
  EXPECT_FALSE(logger->Enabled(LogLevel::kDebug));
  EXPECT_FALSE(logger->Enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger->Enabled(LogLevel::kWarning));
  EXPECT_TRUE(logger->Enabled(LogLevel::kError));
  logger->Debug("debug_event", "");
  logger->Info("info_event", "");
  logger->Write(LogLevel::kInfo, "direct_info_event", "", {});
  logger->Warning("warning_event", "");
  logger->Error("error_event", "");
  ASSERT_TRUE(logger->Flush());
  const auto lines = ParsedLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("event"), "warning_event");
  EXPECT_EQ(lines[1].at("event"), "error_event");
}

TEST_F(JsonLoggerTest, DefaultClockWritesCurrentUtcTimestampWithMilliseconds) {
  JsonLogger logger(JsonLoggerOptions{
      .level = LogLevel::kInfo,
      .sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(output_),
      .queue_capacity = 16384,
      .clock = {},  // The real system clock.
  });
  logger.Info("e", "");
  ASSERT_TRUE(logger.Flush());
  const std::string timestamp(ParsedLines().at(0).at("timestamp").as_string());
  EXPECT_TRUE(
      std::regex_match(timestamp, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << timestamp;
}

TEST_F(JsonLoggerTest, DestructorWritesEveryQueuedLine) {
  constexpr int kLines = 2000;
  {
    auto logger = MakeLogger();
    for (int i = 0; i < kLines; ++i) logger->Info("tick", "", {{"i", i}});
  }
  const auto lines = ParsedLines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; ++i) EXPECT_EQ(lines[i].at("i").as_int64(), i);
}

TEST_F(JsonLoggerTest, ConcurrentWritersNeverInterleaveLines) {
  auto logger = MakeLogger();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kPerThread; ++i) {
        logger->Info("tick", "req", {{"thread", t}, {"i", i}, {"pad", std::string(200, 'x')}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(logger->Flush());
  const auto lines = ParsedLines();  // Throws (fails the test) on any torn line.
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const auto& line : lines) {
    const auto t = line.at("thread").as_int64();
    EXPECT_EQ(line.at("i").as_int64(), next[t]++);  // Each thread's lines stay in order.
  }
  EXPECT_EQ(logger->DroppedLines(), 0u);
}

TEST_F(JsonLoggerTest, DoesNotRegisterWithSpdlog) {
  auto logger = MakeLogger();
  EXPECT_EQ(spdlog::get("cms"), nullptr);
}

// A sink that blocks inside its first write until released, standing in for a stalled
// stdout. Records every payload it writes.
class StalledSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void WaitUntilEntered() {
    std::unique_lock lock(gate_mutex_);
    gate_changed_.wait(lock, [&] { return entered_; });
  }
  void Release() {
    {
      const std::lock_guard lock(gate_mutex_);
      released_ = true;
    }
    gate_changed_.notify_all();
  }
  std::vector<std::string> Payloads() {
    const std::lock_guard lock(mutex_);
    return payloads_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    {
      std::unique_lock lock(gate_mutex_);
      entered_ = true;
      gate_changed_.notify_all();
      gate_changed_.wait(lock, [&] { return released_; });
    }
    payloads_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::mutex gate_mutex_;
  std::condition_variable gate_changed_;
  bool entered_ = false;
  bool released_ = false;
  std::vector<std::string> payloads_;  // Guarded by base_sink's mutex_.
};

TEST(JsonLoggerOverflowTest, DropsOldestQueuedLinesAndCountsThemWhenTheSinkStalls) {
  auto sink = std::make_shared<StalledSink>();
  JsonLogger logger(JsonLoggerOptions{
      .level = LogLevel::kInfo,
      .sink = sink,
      .queue_capacity = 4,
      .clock = [] { return FixedTime(); },
  });
  logger.Info("line", "", {{"n", 0}});
  sink->WaitUntilEntered();  // Line 0 is out of the queue, stuck in the sink.
  for (int n = 1; n <= 10; ++n) logger.Info("line", "", {{"n", n}});  // Never blocks.

  EXPECT_EQ(logger.DroppedLines(), 6u);         // Lines 1-6 made room for 7-10.
  EXPECT_FALSE(logger.Flush(milliseconds(1)));  // The sink is still stalled.

  sink->Release();
  ASSERT_TRUE(logger.Flush());
  std::vector<std::int64_t> written;
  for (const auto& payload : sink->Payloads()) {
    written.push_back(boost::json::parse(payload).at("n").as_int64());
  }
  EXPECT_EQ(written, (std::vector<std::int64_t>{0, 7, 8, 9, 10}));
}

// A sink whose every write fails, like a closed stdout.
class FailingSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg&) override { throw spdlog::spdlog_ex("closed"); }
  void flush_() override {}
};

TEST(JsonLoggerFailingSinkTest, FlushDoesNotWaitForLinesTheSinkFailedToWrite) {
  JsonLogger logger(JsonLoggerOptions{
      .level = LogLevel::kInfo,
      .sink = std::make_shared<FailingSink>(),
      .queue_capacity = 16,
      .clock = {},
  });
  logger.Info("a", "");
  logger.Info("b", "");
  EXPECT_TRUE(logger.Flush());
}

}  // namespace
}  // namespace cms::observability
