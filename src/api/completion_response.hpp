// File: api/completion_response.hpp
//
// The 200 body of POST /v1/completions (CONTRACT.md section 4), assembled by hand in one
// buffer because it is on every request's path:
//
//   {"request_id":"...","model":"...","content":"...",
//    "usage":{"input_tokens":42,"output_tokens":61,"cache_creation_input_tokens":18,
//             "cache_read_input_tokens":0},
//    "cached":false,"latency_ms":1284.7,"stop_reason":"end_turn"}
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/completion.hpp"

namespace cms::api {

// The response body for `completion`. `request_id` is the request's own id (the one on
// X-Request-Id); `cached` says whether the answer came from the response cache;
// `latency_ms` is this request's time to answer, written with one decimal as a plain
// decimal number (1284.66 -> 1284.7, 0.04 -> 0.0, never exponent notation); a negative or
// non-finite latency is written as 0.0. `stop_reason` is null when the upstream sent none.
// REQUIRES: the strings are valid UTF-8 (see api/json_escape.hpp).
[[nodiscard]] std::string RenderCompletionResponse(const core::Completion& completion,
                                                   std::string_view request_id, bool cached,
                                                   double latency_ms);

// Appends `milliseconds` rounded to one decimal (round half to even on exact ties, like
// Python's round(x, 1)) in plain decimal notation: "1284.7", "0.0". Negative or
// non-finite values are written as "0.0".
void AppendLatencyMs(std::string& out, double milliseconds);

}  // namespace cms::api
