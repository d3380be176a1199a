// File: observability/log_line.hpp
//
// The shape of one log line, shared by JsonLogger (which writes it as text) and MemoryLogger
// (which keeps it as an object for tests), so both agree on key names, key order and the
// handling of fields whose key is reserved or repeated:
//   {"timestamp":..., "level":"INFO", "event":"cache_hit", "request_id":"...", <fields>}
//
// Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "observability/log_field.hpp"

namespace cms::observability {

// Keys every line may carry before its fields. A field with one of these names is written
// as "field_<name>" (prefixed again while that still collides) instead of duplicating a key.
inline constexpr std::string_view kTimestampKey = "timestamp";
inline constexpr std::string_view kLevelKey = "level";
inline constexpr std::string_view kEventKey = "event";
inline constexpr std::string_view kRequestIdKey = "request_id";

// The key under which `fields[index]` appears on the line:
// - nullopt when an earlier field has the same key: the first one wins and the line never
//   holds a key twice;
// - a reserved key becomes "field_<key>", prefixed again while that is still reserved or
//   is another field's own key (or one of the two values would vanish). The renamed key is
//   built in `scratch` and the result points into it;
// - any other key is returned as it is (a view of the field's own key).
// REQUIRES: index < fields.size().
[[nodiscard]] std::optional<std::string_view> LineFieldKey(LogFields fields, std::size_t index,
                                                           std::string& scratch);

// Appends the time as ISO 8601 UTC with milliseconds, e.g. "2026-11-29T05:00:00.123Z"
// (no quotes). Sub-millisecond digits are truncated, not rounded, so a timestamp never lies
// in the future. Years outside 0000-9999 are clamped to that range.
void AppendTimestamp(std::string& out, std::chrono::system_clock::time_point time);

}  // namespace cms::observability
