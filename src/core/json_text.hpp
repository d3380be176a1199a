// File: core/json_text.hpp
//
// JSON text for people as well as parsers: like boost::json::serialize, except that numbers
// with a fraction are written in plain decimal ("1284.7", "0.5"), never in the exponent form
// Boost.JSON prefers ("1.2847E3", "5E-1"). Log lines and response bodies carry latencies;
// an operator reading them should not have to decode exponents.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace cms::core {

// Appends the JSON text of `value` to `out`.
void AppendJson(std::string& out, const boost::json::value& value);

// The JSON text of `value`.
[[nodiscard]] std::string ToJsonText(const boost::json::value& value);

// Appends `number` in the shortest plain-decimal form that reads back as the same double
// ("0.7", "100.0", "1e-7" as "0.0000001"). Non-finite values, which JSON cannot carry, are
// written as null.
void AppendPlainDecimal(std::string& out, double number);

}  // namespace cms::core
