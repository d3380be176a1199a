// File: observability/logger.hpp
//
// Logger: structured events, one JSON object per line (CONTRACT.md section 8):
//   {"timestamp":"2026-11-29T05:00:00.123Z","level":"INFO","event":"cache_hit",
//    "request_id":"...", <fields>}
// An event is a name from the contract plus typed fields (log_field.hpp); never a sentence,
// never an API key, never message or system text.
//
// Cost: Debug/Info/Warning/Error check Enabled() before anything else, and the fields are a
// stack array of views, so an event below the threshold costs a virtual call and a few
// stores; nothing is allocated or formatted for it.
//
// Thread safety: every method may be called from any thread at once. Write() never blocks
// on a slow stdout: lines go to a bounded queue drained by a background thread; when the
// queue is full the oldest waiting lines are dropped (and counted), not the request.
//
// Example:
//   logger.Info("cache_hit", request_id, {{"cache_key", prefix}, {"bytes", body.size()}});
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "observability/log_field.hpp"

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

  // Writes one event (nothing when !Enabled(level)). `request_id` may be empty for events
  // no request caused (startup); then the line carries no request_id field. `fields` and
  // the views inside them are borrowed for the call only: an implementation copies what it
  // keeps before returning.
  virtual void Write(LogLevel level, std::string_view event, std::string_view request_id,
                     LogFields fields) = 0;

  void Debug(std::string_view event, std::string_view request_id,
             std::initializer_list<LogField> fields = {}) {
    if (Enabled(LogLevel::kDebug)) Write(LogLevel::kDebug, event, request_id, Span(fields));
  }
  void Info(std::string_view event, std::string_view request_id,
            std::initializer_list<LogField> fields = {}) {
    if (Enabled(LogLevel::kInfo)) Write(LogLevel::kInfo, event, request_id, Span(fields));
  }
  void Warning(std::string_view event, std::string_view request_id,
               std::initializer_list<LogField> fields = {}) {
    if (Enabled(LogLevel::kWarning)) Write(LogLevel::kWarning, event, request_id, Span(fields));
  }
  void Error(std::string_view event, std::string_view request_id,
             std::initializer_list<LogField> fields = {}) {
    if (Enabled(LogLevel::kError)) Write(LogLevel::kError, event, request_id, Span(fields));
  }

 private:
  static LogFields Span(std::initializer_list<LogField> fields) {
    return LogFields(fields.begin(), fields.size());
  }
};

}  // namespace cms::observability
