// File: handlers/cache_access.hpp
//
// Cache lookups and stores as the handlers use them: fail open (a cache error is logged and
// treated as a miss), and log the contract's cache_hit / cache_miss events.
#pragma once

#include <optional>
#include <string_view>

#include "cache/canonical_key.hpp"
#include "cache/response_cache.hpp"
#include "handlers/handler_context.hpp"

namespace cms::handlers {

// The stored answer for `key`, or nullopt on a miss, a disabled cache or a cache failure.
Task<std::optional<cache::CachedCompletion>> LookupCached(const HandlerContext& context,
                                                          const cache::CacheKey& key,
                                                          std::string_view request_id);

// Stores a successful answer; a cache failure is logged and otherwise ignored.
Task<void> StoreCompleted(const HandlerContext& context, const cache::CacheKey& key,
                          cache::CachedCompletion completion, std::string_view request_id);

}  // namespace cms::handlers
