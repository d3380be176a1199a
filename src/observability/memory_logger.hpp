// File: observability/memory_logger.hpp
//
// MemoryLogger: a Logger for unit tests. Keeps every enabled event as the object the JSON
// line would hold, minus "timestamp" (so tests need no clock):
//   {"level":"INFO","event":"cache_hit","request_id":"abc",<fields in insertion order>}
// "request_id" is absent when empty, reserved-named fields are renamed and repeated keys
// dropped exactly as JsonLogger does (see log_line.hpp), and values keep the kinds the JSON
// line would parse back to (see log_line_object.hpp), so an assertion on a MemoryLogger line
// holds for the production line too.
//
// Thread safety: every method may be called from any thread at once (one mutex).
//
// Example:
//   MemoryLogger logger;
//   ... code under test ...
//   EXPECT_EQ(logger.Count("cache_hit"), 1u);
//   EXPECT_EQ(logger.Lines().back().at("status").as_int64(), 200);
#pragma once

#include <cstddef>
#include <mutex>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "observability/logger.hpp"

namespace cms::observability {

class MemoryLogger final : public Logger {
 public:
  // Events below `level` are discarded (Enabled() is false for them).
  explicit MemoryLogger(LogLevel level = LogLevel::kDebug);
  MemoryLogger(const MemoryLogger&) = delete;
  MemoryLogger& operator=(const MemoryLogger&) = delete;

  [[nodiscard]] bool Enabled(LogLevel level) const override;
  void Write(LogLevel level, std::string_view event, std::string_view request_id,
             LogFields fields) override;

  // A copy of every line kept so far, oldest first.
  [[nodiscard]] std::vector<boost::json::object> Lines() const;
  // A copy of the lines whose "event" is `event`, oldest first.
  [[nodiscard]] std::vector<boost::json::object> LinesWithEvent(std::string_view event) const;
  // Number of lines whose "event" is `event`.
  [[nodiscard]] std::size_t Count(std::string_view event) const;
  // Forgets every line kept so far.
  void Clear();

 private:
  // Constant after construction.
  const LogLevel threshold_;

  mutable std::mutex mutex_;
  std::vector<boost::json::object> lines_;  // Guarded by mutex_.
};

}  // namespace cms::observability
