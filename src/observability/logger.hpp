// File: observability/logger.hpp
//
// Logger: structured events, one JSON object per line (CONTRACT.md section 8):
//   {"timestamp":"2026-11-29T05:00:00.123Z","level":"INFO","event":"cache_hit",
//    "request_id":"...", <fields>}
// An event is a name from the contract plus typed fields; never a sentence, never an API key,
// never message or system text.
//
// Thread safety: every method may be called from any thread at once. Write() never blocks
// on a slow stdout: lines go to a bounded queue drained by a background thread; when the
// queue is full the oldest waiting lines are dropped (and counted), not the request.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

namespace cms::observability {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "DEBUG", "INFO", "WARNING", "ERROR".
std::string_view LogLevelName(LogLevel level);

// Parses LOG_LEVEL's accepted spellings (case-insensitive; "WARN" too). nullopt if unknown.
std::optional<LogLevel> ParseLogLevel(std::string_view text);

class Logger {
 public:
  virtual ~Logger() = default;

  // False when `level` is below the configured threshold: callers may skip building fields.
  [[nodiscard]] virtual bool Enabled(LogLevel level) const = 0;

  // Writes one event. `request_id` may be empty for events no request caused (startup);
  // then the line carries no request_id field.
  virtual void Write(LogLevel level, std::string_view event, std::string_view request_id,
                     boost::json::object fields) = 0;

  void Debug(std::string_view event, std::string_view request_id, boost::json::object fields = {}) {
    if (Enabled(LogLevel::kDebug)) Write(LogLevel::kDebug, event, request_id, std::move(fields));
  }
  void Info(std::string_view event, std::string_view request_id, boost::json::object fields = {}) {
    if (Enabled(LogLevel::kInfo)) Write(LogLevel::kInfo, event, request_id, std::move(fields));
  }
  void Warning(std::string_view event, std::string_view request_id,
               boost::json::object fields = {}) {
    if (Enabled(LogLevel::kWarning)) {
      Write(LogLevel::kWarning, event, request_id, std::move(fields));
    }
  }
  void Error(std::string_view event, std::string_view request_id, boost::json::object fields = {}) {
    if (Enabled(LogLevel::kError)) Write(LogLevel::kError, event, request_id, std::move(fields));
  }
};

}  // namespace cms::observability
