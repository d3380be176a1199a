// File: observability/log_line.hpp
//
// The shape of one log line, shared by JsonLogger (which serializes it) and MemoryLogger
// (which keeps it for tests), so both agree on key names, key order and the handling of
// fields that collide with a reserved key:
//   {"timestamp":..., "level":"INFO", "event":"cache_hit", "request_id":"...", <fields>}
//
// Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "observability/logger.hpp"

namespace cms::observability {

// Keys every line may carry before its fields. A field with one of these names is written
// as "field_<name>" (prefixed again while that still collides) instead of duplicating a key.
inline constexpr std::string_view kTimestampKey = "timestamp";
inline constexpr std::string_view kLevelKey = "level";
inline constexpr std::string_view kEventKey = "event";
inline constexpr std::string_view kRequestIdKey = "request_id";

// Appends "level", "event", "request_id" (only when non-empty) and then every field of
// `fields` in insertion order to `line`. `line` may already hold "timestamp".
void AppendEvent(boost::json::object& line, LogLevel level, std::string_view event,
                 std::string_view request_id, boost::json::object fields);

// ISO 8601 UTC with milliseconds, e.g. "2026-11-29T05:00:00.123Z". Sub-millisecond digits
// are truncated, not rounded, so a timestamp never lies in the future.
std::string FormatTimestamp(std::chrono::system_clock::time_point time);

}  // namespace cms::observability
