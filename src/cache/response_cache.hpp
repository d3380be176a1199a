// File: cache/response_cache.hpp
//
// ResponseCache: maps the canonical key of a validated request (cache/canonical_key.hpp) to
// the completion the upstream gave for it, so identical questions within the TTL are
// answered without an upstream call (CONTRACT.md section 5).
//
// Thread safety: one instance is shared by every I/O thread; implementations synchronise
// internally. Methods are coroutines because a networked implementation (Redis) suspends;
// the in-memory one completes without suspending.
//
// Outage policy: fail open. An error means the backend failed; callers treat it as a miss
// (Lookup) or skip storing (Store), count it, and go on serving.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/system/result.hpp>

#include "core/completion.hpp"
#include "core/net.hpp"

namespace cms::cache {

// Lowercase hex SHA-256 of the canonical request serialization: 64 characters.
using CacheKey = std::string;

// Shared, immutable: a hit hands out the stored answer without copying its text.
using CachedCompletion = std::shared_ptr<const core::Completion>;

struct CacheError {
  std::string log_message;  // Why the backend failed; for the log.
};

template <class T>
using CacheResult = boost::system::result<T, CacheError>;

[[noreturn]] void throw_exception_from_error(const CacheError& error,
                                             const boost::source_location& location);

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;

  // The stored answer for `key`, or std::nullopt on a miss (never stored, expired, evicted,
  // or the cache is disabled). A hit refreshes the entry's recency, not its expiry.
  virtual Task<CacheResult<std::optional<CachedCompletion>>> Lookup(const CacheKey& key) = 0;

  // Stores `value` under `key` for the configured TTL, replacing any earlier entry. May
  // evict least recently used entries to stay within the bounds; a value larger than the
  // whole byte bound is not stored. Only successful answers are ever stored.
  virtual Task<CacheResult<void>> Store(const CacheKey& key, CachedCompletion value) = 0;
};

}  // namespace cms::cache
