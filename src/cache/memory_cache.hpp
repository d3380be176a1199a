// File: cache/memory_cache.hpp
//
// MemoryCache: the embedded ResponseCache (cache/response_cache.hpp), an in-process LRU with
// a TTL and two bounds, entries and bytes (CONTRACT.md section 5, CACHE_* variables).
//
//   cache::MemoryCache cache({.ttl = std::chrono::seconds(300)});
//   net::co_spawn(worker, cache.RunSweeper(std::chrono::seconds(1)),
//                 net::bind_cancellation_slot(stop.slot(), LogFailure));
//
// Behaviour:
// - An entry lives for `ttl` from its Store; a Lookup hit refreshes its recency, never its
//   expiry. Expired entries are never returned. They are reclaimed by a Lookup that finds
//   them, by a Store into their shard, and by EvictExpired() (which RunSweeper calls on a
//   timer), so memory is given back without waiting for reads.
// - Sharded: keys are spread by hash over `shards` partitions, each with its own mutex, LRU
//   order and bounds of max_entries / shards entries and max_bytes / shards bytes (rounded
//   down, so the totals never exceed the configured bounds; with the defaults, 625 entries
//   and 16 MiB per shard). LRU is therefore per shard: a
//   shard that receives more keys than its share evicts before the cache as a whole is full.
//   Set shards = 1 for one exact LRU (tests, tiny caches).
// - An entry's size is its key, content, model and stop_reason bytes plus
//   kEntryOverheadBytes for the nodes, control block and fixed fields. A value larger than a
//   shard's byte bound is not stored (and the older entry under its key is dropped, so a
//   replaced answer is never served after its replacement was offered).
// - ttl == 0 (or a zero bound) disables the cache: Lookup always misses, Store stores nothing.
//
// Misses and failures: a miss is std::nullopt. This backend cannot fail; every result holds
// a value.
//
// Thread safety: every method may be called from any thread at once. No lock is held across
// a suspension (the coroutines never suspend, except RunSweeper between sweeps).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/clock.hpp"
#include "cache/response_cache.hpp"
#include "core/completion.hpp"
#include "core/net.hpp"

namespace cms::cache {

struct MemoryCacheOptions {
  // How long a stored answer is served (CACHE_TTL_SECONDS). 0 disables the cache.
  std::chrono::seconds ttl{300};
  // Most entries held at once, over all shards (CACHE_MAX_ENTRIES).
  std::size_t max_entries = 10000;
  // Most bytes held at once, over all shards, as counted by EntryBytes (CACHE_MAX_BYTES).
  std::size_t max_bytes = std::size_t{256} * 1024 * 1024;
  // Independently locked partitions. More shards lower contention between I/O threads;
  // fewer make eviction closer to one global LRU. Lowered so each shard gets at least one
  // entry and MemoryCache::kMinShardBytes (small caches are one exact LRU); at least 1.
  std::size_t shards = 16;
};

class MemoryCache final : public ResponseCache {
 public:
  // Counted per entry on top of its strings: list and hash nodes, the shared Completion and
  // its control block, the expiry and size fields. An estimate for 64-bit libstdc++.
  static constexpr std::size_t kEntryOverheadBytes = 256;
  // The smallest byte bound a shard is given (see MemoryCacheOptions::shards).
  static constexpr std::size_t kMinShardBytes = std::size_t{1} << 20;

  // Counters since construction, for metrics. Each shard is read under its own lock, so a
  // snapshot taken during traffic is consistent per shard, not across shards.
  struct Stats {
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;       // Every Lookup that returned std::nullopt.
    std::uint64_t evictions = 0;    // Live entries dropped to stay within a bound.
    std::uint64_t expirations = 0;  // Expired entries reclaimed (by read, store or sweep).
  };

  // REQUIRES: `clock` outlives the cache.
  explicit MemoryCache(MemoryCacheOptions options, const Clock& clock = DefaultClock());
  ~MemoryCache() override;
  MemoryCache(const MemoryCache&) = delete;
  MemoryCache& operator=(const MemoryCache&) = delete;

  // ResponseCache
  Task<CacheResult<std::optional<CachedCompletion>>> Lookup(const CacheKey& key) override;
  // REQUIRES: value != nullptr (a null value is ignored).
  Task<CacheResult<void>> Store(const CacheKey& key, CachedCompletion value) override;

  // Drops every expired entry now; returns how many. Cost is proportional to the number
  // dropped plus the number of shards, not to the size of the cache.
  std::size_t EvictExpired();

  // Calls EvictExpired() every `interval` until the coroutine is cancelled (through the
  // cancellation slot bound to its co_spawn), then returns normally; it never throws for
  // cancellation of any type. The interval is real time (a steady_timer); expiry uses the injected
  // clock. REQUIRES: the cache outlives the coroutine (the App that owns the cache cancels it, or
  // stops the worker running it, before destroying the cache). interval > 0.
  Task<void> RunSweeper(std::chrono::milliseconds interval);

  [[nodiscard]] Stats GetStats() const;

  // The size an entry is accounted at.
  [[nodiscard]] static std::size_t EntryBytes(std::string_view key, const core::Completion& value);

 private:
  struct Shard;

  [[nodiscard]] Shard& ShardFor(std::string_view key) const;
  [[nodiscard]] std::optional<CachedCompletion> Get(const CacheKey& key);
  void Put(const CacheKey& key, CachedCompletion value);

  // Constant after construction.
  const Clock& clock_;
  const std::chrono::seconds ttl_;
  const bool enabled_;
  const std::size_t shard_count_;
  const std::size_t shard_max_entries_;
  const std::size_t shard_max_bytes_;
  // Each shard synchronises itself.
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace cms::cache
