// File: observability/log_line_object.hpp
//
// One log line as a boost::json::object, for loggers that keep lines to inspect them
// (MemoryLogger, test loggers) rather than write them. The object holds what the JSON line
// would, minus "timestamp", with the same keys in the same order (log_line.hpp) and the
// same value kinds (signed integers as int64, unsigned as uint64, ...):
//   {"level":"INFO","event":"cache_hit","request_id":"abc",<fields in order>}
// Not for the request path: this is the DOM the production logger avoids.
//
// Pure functions; safe from any thread.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "observability/log_field.hpp"
#include "observability/logger.hpp"

namespace cms::observability {

// The value as Boost.JSON holds it; a string is copied. A non-finite double stays a double
// here (JsonLogger writes it as null).
[[nodiscard]] boost::json::value ToJsonValue(const LogValue& value);

// "level", "event", "request_id" (only when non-empty), then the fields.
[[nodiscard]] boost::json::object LogLineObject(LogLevel level, std::string_view event,
                                                std::string_view request_id, LogFields fields);

}  // namespace cms::observability
