// File: handlers/upstream_log.hpp
//
// The contract's log events around an upstream call (CONTRACT.md section 8): what was asked
// (never the text), what came back, and why it failed. One function per event so each event's
// fields are written in exactly one place.
#pragma once

#include <chrono>
#include <string_view>

#include "core/completion.hpp"
#include "core/elapsed.hpp"
#include "observability/logger.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::handlers {

using Clock = std::chrono::steady_clock;

using core::MillisecondsSince;

void LogAnthropicRequest(observability::Logger& logger, std::string_view request_id,
                         const core::CompletionRequest& request, bool stream);
void LogAnthropicResponse(observability::Logger& logger, std::string_view request_id,
                          const core::Completion& completion, double latency_ms);
void LogAnthropicError(observability::Logger& logger, std::string_view request_id,
                       const upstream::UpstreamError& error);

}  // namespace cms::handlers
