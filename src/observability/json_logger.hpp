// File: observability/json_logger.hpp
//
// JsonLogger: the production Logger. Each event becomes one JSON object on one line
// (CONTRACT.md section 8), in this key order:
//   {"timestamp":"2026-11-29T05:00:00.123Z","level":"INFO","event":"cache_hit",
//    "request_id":"...", <fields in insertion order>}
// "request_id" is omitted when empty; a field named like one of those four keys is written
// as "field_<name>", and of fields sharing a key only the first is written (log_line.hpp).
//
// The line is written straight into one string on the calling thread (log_line_text.hpp; no
// JSON document, and nothing at all below the level) and handed to a private spdlog async logger
// (its own thread pool of one thread, a bounded queue, overflow policy overrun_oldest).
// When the sink (stdout) is slower than the producers, the oldest queued lines are
// dropped and counted (DroppedLines()); a request thread never waits on stdout. Each line
// is flushed by the background thread as soon as it is written, so a collector sees it
// promptly.
//
// Nothing is registered with spdlog's global registry and no spdlog default is changed:
// several JsonLoggers (tests, the simulator) can coexist.
//
// Thread safety: every method may be called from any thread at once, except that the
// destructor must not race with other calls.
//
// Example:
//   JsonLogger logger(JsonLoggerOptions{.level = LogLevel::kInfo});
//   logger.Info("cache_hit", request_id, {{"model", model}});
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/sink.h>

#include "observability/logger.hpp"

namespace cms::observability {

namespace json_logger_internal {
struct Progress;  // Lines handed to spdlog vs. lines the sink finished; see the .cpp.
}  // namespace json_logger_internal

struct JsonLoggerOptions {
  // Lines below this level are not written (Enabled() is false for them).
  LogLevel level = LogLevel::kInfo;
  // Where lines go, "\n"-terminated. nullptr: standard output.
  spdlog::sink_ptr sink{};
  // Lines that may wait for the background thread; beyond that the oldest are dropped.
  std::size_t queue_capacity = 16384;
  // Source of the "timestamp" of each line. Empty: std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock{};
};

class JsonLogger final : public Logger {
 public:
  explicit JsonLogger(JsonLoggerOptions options = {});
  // Writes every line still queued (blocking on the sink if it must), then stops the
  // background thread.
  ~JsonLogger() override;
  JsonLogger(const JsonLogger&) = delete;
  JsonLogger& operator=(const JsonLogger&) = delete;

  [[nodiscard]] bool Enabled(LogLevel level) const override;
  void Write(LogLevel level, std::string_view event, std::string_view request_id,
             LogFields fields) override;

  // Waits until every line written before the call has reached the sink and been flushed,
  // or until `timeout` passes (a stalled stdout must not hang shutdown forever). Returns
  // true when everything arrived. Lines dropped on overflow count as arrived.
  bool Flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Lines dropped so far because the queue was full (overrun_oldest).
  [[nodiscard]] std::size_t DroppedLines() const;

 private:
  // Constant after construction.
  const LogLevel threshold_;
  const std::function<std::chrono::system_clock::time_point()> clock_;
  const std::shared_ptr<json_logger_internal::Progress> progress_;  // Shared with the sink.
  std::shared_ptr<spdlog::async_logger> logger_;
  // Declared after logger_ so it is destroyed first: the pool's destructor writes every
  // queued line and joins its thread while the logger (and its sink) are still alive, and
  // the sink is then released on this thread rather than racing the worker.
  std::shared_ptr<spdlog::details::thread_pool> thread_pool_;
};

}  // namespace cms::observability
