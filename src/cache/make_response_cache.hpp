// File: cache/make_response_cache.hpp
//
// The one place that knows which ResponseCache backends exist and how to build them from
// settings (config/ fills CacheSettings; the App owns the result). Callers hold only the
// ResponseCache interface.
//
//   std::unique_ptr<cache::ResponseCache> cache = cache::MakeResponseCache(settings.cache);
//   net::co_spawn(worker, cache::RunCacheMaintenance(*cache, std::chrono::seconds(1)),
//                 net::bind_cancellation_slot(stop.slot(), LogFailure));
//
// Failure: only at startup, by exception: std::invalid_argument for a backend value outside
// the enum. Later backends (Redis) report bad settings the same way, never on the data plane.
#pragma once

#include <chrono>
#include <memory>

#include "cache/clock.hpp"
#include "cache/memory_cache.hpp"
#include "cache/response_cache.hpp"
#include "core/net.hpp"

namespace cms::cache {

struct CacheSettings {
  enum class Backend {
    kMemory,  // In-process LRU (MemoryCache); per replica, lost on restart.
  };
  Backend backend = Backend::kMemory;  // CACHE_BACKEND.
  MemoryCacheOptions memory;           // Used when backend == kMemory.
};

// REQUIRES: `clock` outlives the returned cache.
[[nodiscard]] std::unique_ptr<ResponseCache> MakeResponseCache(const CacheSettings& settings,
                                                               const Clock& clock = DefaultClock());

// The background work a backend needs, run until cancelled (any cancellation type), then
// returns normally. For the memory backend: reclaiming expired entries every `interval`
// (MemoryCache::RunSweeper). For backends that need none it returns at once.
// REQUIRES: `cache` came from MakeResponseCache and outlives the coroutine; interval > 0.
Task<void> RunCacheMaintenance(ResponseCache& cache, std::chrono::milliseconds interval);

}  // namespace cms::cache
