// File: simulator/sim_error.hpp
//
// The Anthropic error vocabulary as the simulator answers it (docs/anthropic-api.md §4.1):
// a kind maps to one HTTP status and one `error.type`, and renders into the real envelope
//   {"type":"error","error":{"type":"rate_limit_error","message":"..."},"request_id":"req_sim_..."}
// or, after a stream began, into an `event: error` SSE event.
//
// Pure functions and values; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace cms::simulator {

enum class ApiErrorKind {
  kInvalidRequest,   // 400 invalid_request_error
  kAuthentication,   // 401 authentication_error
  kPermission,       // 403 permission_error
  kNotFound,         // 404 not_found_error
  kRequestTooLarge,  // 413 request_too_large
  kRateLimit,        // 429 rate_limit_error (answered with `retry-after: 1`)
  kApi,              // 500 api_error
  kUnavailable,      // 503 api_error
  kOverloaded,       // 529 overloaded_error
};

// One refusal: what kind, and the human-readable message for `error.message`.
struct ApiError {
  ApiErrorKind kind = ApiErrorKind::kApi;
  std::string message;
};

// The HTTP status of a kind (400, 401, 403, 404, 413, 429, 500, 503, 529).
[[nodiscard]] unsigned StatusOf(ApiErrorKind kind);
// The wire `error.type` of a kind, e.g. "overloaded_error".
[[nodiscard]] std::string_view TypeOf(ApiErrorKind kind);
// The message the real API gives for a kind when nothing more specific applies.
[[nodiscard]] std::string_view DefaultMessageOf(ApiErrorKind kind);

// The JSON error envelope with the request id, for an HTTP error response body.
[[nodiscard]] std::string RenderErrorBody(const ApiError& error, std::string_view request_id);

// `event: error\ndata: {"type":"error","error":{...}}\n\n`: the same error once the 200
// stream has begun.
[[nodiscard]] std::string RenderErrorEvent(const ApiError& error);

}  // namespace cms::simulator
