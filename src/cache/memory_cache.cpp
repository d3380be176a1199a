#include "cache/memory_cache.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <list>
#include <mutex>
#include <string_view>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

namespace cms::cache {
namespace {

using TimePoint = Clock::TimePoint;

struct Entry;
using LruList = std::list<Entry>;
using ExpiryList = std::list<LruList::iterator>;

struct Entry {
  CacheKey key;
  CachedCompletion value;
  TimePoint expires_at;
  std::size_t bytes = 0;
  ExpiryList::iterator expiry_position;  // This entry's node in Shard::by_expiry.
};

// Small bounds split sixteen ways would leave shards that hold almost nothing (or no entry
// at all), so every shard keeps at least one entry and kMinShardBytes.
std::size_t ShardCount(const MemoryCacheOptions& options) {
  const std::size_t most = std::max<std::size_t>(
      1, std::min(options.max_entries, options.max_bytes / MemoryCache::kMinShardBytes));
  return std::clamp<std::size_t>(options.shards, 1, most);
}

// libstdc++'s string hash (murmur, 8 bytes a step) took fewer instructions than Boost
// 1.81's on these 64-character digest keys; the flat map mixes it again itself.
using KeyHash = std::hash<std::string_view>;

}  // namespace

struct MemoryCache::Shard {
  // Drops `position` from every structure and from the byte count.
  void Erase(LruList::iterator position) {
    index.erase(std::string_view(position->key));
    by_expiry.erase(position->expiry_position);
    bytes -= position->bytes;
    lru.erase(position);
  }

  // The TTL is the same for every entry and the clock is monotonic, so store order is
  // expiry order: the expired entries are a prefix of by_expiry.
  std::size_t EraseExpired(TimePoint now) {
    std::size_t erased = 0;
    while (!by_expiry.empty() && by_expiry.front()->expires_at <= now) {
      Erase(by_expiry.front());
      ++erased;
    }
    expirations += erased;
    return erased;
  }

  // Makes room for one more entry of `incoming_bytes`, least recently used first.
  void EvictToFit(std::size_t incoming_bytes, std::size_t max_entries, std::size_t max_bytes) {
    while (!lru.empty() && (lru.size() + 1 > max_entries || bytes + incoming_bytes > max_bytes)) {
      Erase(std::prev(lru.end()));
      ++evictions;
    }
  }

  void InsertFront(Entry entry) {
    const std::size_t entry_bytes = entry.bytes;
    lru.push_front(std::move(entry));
    // Undo the earlier steps if a later allocation fails, so the three structures agree.
    try {
      by_expiry.push_back(lru.begin());
      lru.front().expiry_position = std::prev(by_expiry.end());
      try {
        index.emplace(std::string_view(lru.front().key), lru.begin());
      } catch (...) {
        by_expiry.pop_back();
        throw;
      }
    } catch (...) {
      lru.pop_front();
      throw;
    }
    bytes += entry_bytes;
  }

  mutable std::mutex mutex;
  // Guarded by mutex.
  LruList lru;           // Most recently used first.
  ExpiryList by_expiry;  // Soonest expiry first.
  // Keys are views of Entry::key, which list nodes keep in place until the entry is erased.
  // Open addressing: a lookup reads one group of slot tags and, for a match, one slot. Every
  // cache miss looks up twice and evicts once, in a table mostly out of the CPU's caches;
  // std::unordered_map's bucket-then-node chase was 2.3% of the service's CPU at c=256.
  boost::unordered_flat_map<std::string_view, LruList::iterator, KeyHash> index;
  std::size_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;
};

MemoryCache::MemoryCache(MemoryCacheOptions options, const Clock& clock)
    : clock_(clock),
      ttl_(options.ttl),
      enabled_(options.ttl > std::chrono::seconds::zero() && options.max_entries > 0 &&
               options.max_bytes > 0),
      shard_count_(ShardCount(options)),
      shard_max_entries_(options.max_entries / shard_count_),
      shard_max_bytes_(options.max_bytes / shard_count_),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

MemoryCache::~MemoryCache() = default;

Task<CacheResult<std::optional<CachedCompletion>>> MemoryCache::Lookup(const CacheKey& key) {
  co_return CacheResult<std::optional<CachedCompletion>>(Get(key));
}

Task<CacheResult<void>> MemoryCache::Store(const CacheKey& key, CachedCompletion value) {
  Put(key, std::move(value));
  co_return CacheResult<void>();
}

std::size_t MemoryCache::EntryBytes(std::string_view key, const core::Completion& value) {
  return key.size() + value.content.size() + value.model.size() + value.stop_reason.size() +
         kEntryOverheadBytes;
}

MemoryCache::Shard& MemoryCache::ShardFor(std::string_view key) const {
  return shards_[KeyHash{}(key) % shard_count_];
}

std::optional<CachedCompletion> MemoryCache::Get(const CacheKey& key) {
  Shard& shard = ShardFor(key);
  const TimePoint now = clock_.Now();
  const std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(std::string_view(key));
  if (found == shard.index.end()) {
    ++shard.misses;
    return std::nullopt;
  }
  const LruList::iterator position = found->second;
  if (position->expires_at <= now) {
    shard.Erase(position);
    ++shard.expirations;
    ++shard.misses;
    return std::nullopt;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, position);
  ++shard.hits;
  return position->value;
}

void MemoryCache::Put(const CacheKey& key, CachedCompletion value) {
  if (!enabled_ || !value) {
    return;
  }
  const std::size_t entry_bytes = EntryBytes(key, *value);
  Shard& shard = ShardFor(key);
  // Copy the key before taking the lock; stamp the expiry under it.
  Entry entry{.key = key,
              .value = std::move(value),
              .expires_at = {},
              .bytes = entry_bytes,
              .expiry_position = {}};
  const std::lock_guard lock(shard.mutex);
  // Read under the lock, so a shard's entries are stamped in the order they are inserted
  // and by_expiry stays sorted even when threads race to store.
  const TimePoint now = clock_.Now();
  entry.expires_at = now + ttl_;
  if (const auto found = shard.index.find(std::string_view(key)); found != shard.index.end()) {
    shard.Erase(found->second);
  }
  if (entry_bytes > shard_max_bytes_) {
    return;
  }
  // Expired entries go before live ones are evicted for room.
  shard.EraseExpired(now);
  shard.EvictToFit(entry_bytes, shard_max_entries_, shard_max_bytes_);
  shard.InsertFront(std::move(entry));
}

std::size_t MemoryCache::EvictExpired() {
  const TimePoint now = clock_.Now();
  std::size_t erased = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    Shard& shard = shards_[i];
    const std::lock_guard lock(shard.mutex);
    erased += shard.EraseExpired(now);
  }
  return erased;
}

Task<void> MemoryCache::RunSweeper(std::chrono::milliseconds interval) {
  // Any cancellation type stops the sweeper (shutdown emits `total` first), and stopping is
  // the normal way out: report it as a value here rather than as a throw from co_await.
  co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
  co_await net::this_coro::throw_if_cancelled(false);
  SteadyTimer timer(co_await net::this_coro::executor);
  for (;;) {
    // A cancellation emitted while no wait was pending is only recorded in the state.
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
      co_return;
    }
    timer.expires_after(interval);
    const auto [error] = co_await timer.async_wait(kAsTuple);
    if (error) {
      co_return;  // operation_aborted: cancelled.
    }
    EvictExpired();
  }
}

MemoryCache::Stats MemoryCache::GetStats() const {
  Stats stats;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    const std::lock_guard lock(shard.mutex);
    stats.entries += shard.lru.size();
    stats.bytes += shard.bytes;
    stats.hits += shard.hits;
    stats.misses += shard.misses;
    stats.evictions += shard.evictions;
    stats.expirations += shard.expirations;
  }
  return stats;
}

}  // namespace cms::cache
