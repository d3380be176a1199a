// File: handlers/respond.hpp
//
// Error answers the handlers send, built by api/error_response (the one map from errors to
// status and body, CONTRACT.md section 7).
#pragma once

#include <string_view>

#include "http/exchange.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::handlers {

// Sends {"detail": ..., "request_id": ...} with `status`.
Task<void> RespondDetail(http::Exchange& exchange, http::bhttp::status status,
                         std::string_view detail);

// Sends the caller's view of an upstream failure: fixed text, Retry-After passed on for 429,
// nothing of the upstream's own message.
Task<void> RespondUpstreamError(http::Exchange& exchange, const upstream::UpstreamError& error);

}  // namespace cms::handlers
