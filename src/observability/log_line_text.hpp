// File: observability/log_line_text.hpp
//
// Writing one log line as JSON text straight into a string, for JsonLogger: no DOM, one
// pass over the fields. The keys, their order and the renaming of reserved or repeated keys
// are those of log_line.hpp; values are written as Boost.JSON would write them, except that
// doubles are plain decimal (core/json_text.hpp), so lines read the same as they always did:
//   {"timestamp":"2026-11-29T05:00:00.123Z","level":"INFO","event":"http_request",
//    "request_id":"req-42","status":200,"latency_ms":12.5}
//
// Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "observability/log_field.hpp"
#include "observability/logger.hpp"

namespace cms::observability {

// Appends the JSON text of `value`: an escaped string, true/false, an integer, a plain
// decimal (a non-finite double, which JSON cannot carry, as null) or null.
void AppendLogValue(std::string& out, const LogValue& value);

// Appends the whole line, without a trailing newline. "request_id" is left out when empty.
void AppendLogLine(std::string& out, std::chrono::system_clock::time_point time, LogLevel level,
                   std::string_view event, std::string_view request_id, LogFields fields);

}  // namespace cms::observability
