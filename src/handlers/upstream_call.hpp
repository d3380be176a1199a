// File: handlers/upstream_call.hpp
//
// One non-streaming upstream call as the completions endpoint makes it, shared by every
// caller coalesced onto it (HandlerContext::flights): take an upstream slot (or be shed with
// kOverloaded), call the provider (retries included), log the contract's events, and store a
// success in the cache. It owns everything it uses, because it may outlive the caller whose
// arrival started it; the HandlerContext it borrows lives as long as the App.
#pragma once

#include <memory>
#include <string>

#include "cache/response_cache.hpp"
#include "core/completion.hpp"
#include "handlers/handler_context.hpp"

namespace cms::handlers {

// Never throws for an expected outcome: shedding, upstream failure and cancellation are
// values (a thrown exception would hold every coalesced caller until its client left).
Task<upstream::UpstreamResult<core::Completion>> CallUpstreamOnce(
    const HandlerContext& context, std::shared_ptr<const core::CompletionRequest> request,
    cache::CacheKey key, std::string request_id, upstream::Clock::time_point deadline);

}  // namespace cms::handlers
