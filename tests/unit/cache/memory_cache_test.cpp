#include "cache/memory_cache.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cache/clock.hpp"
#include "core/completion.hpp"
#include "core/net.hpp"

namespace cms::cache {
namespace {

using std::chrono::seconds;

// Runs `task` to completion on a private io_context and returns its value.
template <class T>
T RunTask(Task<T> task) {
  net::io_context io;
  std::optional<T> value;
  std::exception_ptr error;
  net::co_spawn(io, std::move(task), [&](std::exception_ptr e, T result) {
    error = std::move(e);
    value = std::move(result);
  });
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*value);
}

CachedCompletion MakeCompletion(std::string content) {
  return std::make_shared<const core::Completion>(core::Completion{.model = "claude-sonnet-4-6",
                                                                   .content = std::move(content),
                                                                   .usage = {},
                                                                   .stop_reason = "end_turn"});
}

// Keys of equal length, so entries with equal content have equal accounted sizes.
CacheKey Key(int i) {
  std::string key = "key-" + std::to_string(i);
  key.resize(16, '.');
  return key;
}

class MemoryCacheTest : public ::testing::Test {
 protected:
  // One shard: a single exact LRU, so eviction order is observable.
  std::unique_ptr<MemoryCache> MakeCache(MemoryCacheOptions options) {
    if (options.shards == MemoryCacheOptions{}.shards) {
      options.shards = 1;
    }
    return std::make_unique<MemoryCache>(options, clock_);
  }

  static std::optional<CachedCompletion> Lookup(MemoryCache& cache, const CacheKey& key) {
    auto result = RunTask(cache.Lookup(key));
    EXPECT_TRUE(result.has_value());
    return result.has_value() ? *result : std::nullopt;
  }

  static void Store(MemoryCache& cache, const CacheKey& key, CachedCompletion value) {
    EXPECT_TRUE(RunTask(cache.Store(key, std::move(value))).has_value());
  }

  static bool Contains(MemoryCache& cache, const CacheKey& key) {
    return Lookup(cache, key).has_value();
  }

  ManualClock clock_;
};

TEST_F(MemoryCacheTest, MissesUnknownKey) {
  auto cache = MakeCache({});
  EXPECT_EQ(Lookup(*cache, Key(1)), std::nullopt);
  EXPECT_EQ(cache->GetStats().misses, 1u);
  EXPECT_EQ(cache->GetStats().hits, 0u);
}

TEST_F(MemoryCacheTest, HitReturnsTheStoredObject) {
  auto cache = MakeCache({});
  const CachedCompletion value = MakeCompletion("answer");
  Store(*cache, Key(1), value);
  const std::optional<CachedCompletion> hit = Lookup(*cache, Key(1));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->get(), value.get());  // Shared, not copied.
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.bytes, MemoryCache::EntryBytes(Key(1), *value));
}

TEST_F(MemoryCacheTest, EntryBytesCountsStringsAndOverhead) {
  const core::Completion value{
      .model = "mm", .content = "ccc", .usage = {.input_tokens = 5}, .stop_reason = "s"};
  EXPECT_EQ(MemoryCache::EntryBytes("kkkk", value),
            4u + 3u + 2u + 1u + MemoryCache::kEntryOverheadBytes);
}

TEST_F(MemoryCacheTest, ExpiresExactlyAtTtl) {
  auto cache = MakeCache({.ttl = seconds(300)});
  Store(*cache, Key(1), MakeCompletion("a"));
  clock_.Advance(seconds(300) - std::chrono::nanoseconds(1));
  EXPECT_TRUE(Contains(*cache, Key(1)));
  clock_.Advance(std::chrono::nanoseconds(1));
  EXPECT_FALSE(Contains(*cache, Key(1)));
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
}

TEST_F(MemoryCacheTest, HitRefreshesRecencyNotExpiry) {
  auto cache = MakeCache({.ttl = seconds(10)});
  Store(*cache, Key(1), MakeCompletion("a"));
  clock_.Advance(seconds(9));
  EXPECT_TRUE(Contains(*cache, Key(1)));
  clock_.Advance(seconds(1));
  EXPECT_FALSE(Contains(*cache, Key(1)));
}

TEST_F(MemoryCacheTest, EvictsLeastRecentlyUsedWhenOverEntryBound) {
  auto cache = MakeCache({.max_entries = 3});
  Store(*cache, Key(1), MakeCompletion("a"));
  Store(*cache, Key(2), MakeCompletion("b"));
  Store(*cache, Key(3), MakeCompletion("c"));
  Store(*cache, Key(4), MakeCompletion("d"));
  EXPECT_FALSE(Contains(*cache, Key(1)));
  EXPECT_TRUE(Contains(*cache, Key(2)));
  EXPECT_TRUE(Contains(*cache, Key(3)));
  EXPECT_TRUE(Contains(*cache, Key(4)));
  EXPECT_EQ(cache->GetStats().entries, 3u);
  EXPECT_EQ(cache->GetStats().evictions, 1u);
}

TEST_F(MemoryCacheTest, HitRefreshesRecency) {
  auto cache = MakeCache({.max_entries = 3});
  Store(*cache, Key(1), MakeCompletion("a"));
  Store(*cache, Key(2), MakeCompletion("b"));
  Store(*cache, Key(3), MakeCompletion("c"));
  EXPECT_TRUE(Contains(*cache, Key(1)));  // Key(2) is now the least recently used.
  Store(*cache, Key(4), MakeCompletion("d"));
  EXPECT_TRUE(Contains(*cache, Key(1)));
  EXPECT_FALSE(Contains(*cache, Key(2)));
  EXPECT_TRUE(Contains(*cache, Key(3)));
  EXPECT_TRUE(Contains(*cache, Key(4)));
}

TEST_F(MemoryCacheTest, EvictsOldestWhenOverByteBound) {
  const std::size_t entry_bytes = MemoryCache::EntryBytes(Key(1), *MakeCompletion("0123456789"));
  auto cache = MakeCache({.max_bytes = 3 * entry_bytes});
  for (int i = 1; i <= 3; ++i) {
    Store(*cache, Key(i), MakeCompletion("0123456789"));
  }
  EXPECT_EQ(cache->GetStats().bytes, 3 * entry_bytes);
  Store(*cache, Key(4), MakeCompletion("0123456789"));
  EXPECT_FALSE(Contains(*cache, Key(1)));
  EXPECT_TRUE(Contains(*cache, Key(2)));
  EXPECT_TRUE(Contains(*cache, Key(4)));
  EXPECT_EQ(cache->GetStats().bytes, 3 * entry_bytes);
}

TEST_F(MemoryCacheTest, LargeValueEvictsAsManyOldEntriesAsNeeded) {
  const std::size_t small_bytes = MemoryCache::EntryBytes(Key(1), *MakeCompletion("x"));
  auto cache = MakeCache({.max_bytes = 4 * small_bytes});
  for (int i = 1; i <= 4; ++i) {
    Store(*cache, Key(i), MakeCompletion("x"));
  }
  // Two entries' worth of extra text: three small entries must go.
  const CachedCompletion large = MakeCompletion(std::string(2 * small_bytes, 'y'));
  Store(*cache, Key(5), large);
  EXPECT_FALSE(Contains(*cache, Key(1)));
  EXPECT_FALSE(Contains(*cache, Key(2)));
  EXPECT_FALSE(Contains(*cache, Key(3)));
  EXPECT_TRUE(Contains(*cache, Key(4)));
  EXPECT_TRUE(Contains(*cache, Key(5)));
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.evictions, 3u);
  EXPECT_EQ(stats.bytes, small_bytes + MemoryCache::EntryBytes(Key(5), *large));
  EXPECT_LE(stats.bytes, 4 * small_bytes);
}

TEST_F(MemoryCacheTest, ValueLargerThanByteBoundIsNotStored) {
  const CachedCompletion fits = MakeCompletion(std::string(100, 'a'));
  const std::size_t bound = MemoryCache::EntryBytes(Key(2), *fits);
  auto cache = MakeCache({.max_bytes = bound});
  Store(*cache, Key(1), MakeCompletion("small"));
  Store(*cache, Key(2), MakeCompletion(std::string(101, 'a')));  // One byte over the bound.
  EXPECT_FALSE(Contains(*cache, Key(2)));
  EXPECT_TRUE(Contains(*cache, Key(1)));  // Nothing was evicted for a value that cannot fit.
  EXPECT_EQ(cache->GetStats().evictions, 0u);

  Store(*cache, Key(2), fits);  // Exactly the bound: stored, evicting the other entry.
  EXPECT_TRUE(Contains(*cache, Key(2)));
  EXPECT_EQ(cache->GetStats().bytes, bound);
}

TEST_F(MemoryCacheTest, OversizeReplacementDropsTheOlderEntry) {
  auto cache = MakeCache({.max_bytes = 1000});
  Store(*cache, Key(1), MakeCompletion("old"));
  Store(*cache, Key(1), MakeCompletion(std::string(1000, 'n')));
  EXPECT_FALSE(Contains(*cache, Key(1)));
  EXPECT_EQ(cache->GetStats().entries, 0u);
  EXPECT_EQ(cache->GetStats().bytes, 0u);
}

TEST_F(MemoryCacheTest, ZeroTtlDisablesTheCache) {
  auto cache = MakeCache({.ttl = seconds(0)});
  Store(*cache, Key(1), MakeCompletion("a"));
  EXPECT_FALSE(Contains(*cache, Key(1)));
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_EQ(stats.misses, 1u);
}

TEST_F(MemoryCacheTest, NullValueIsIgnored) {
  auto cache = MakeCache({});
  Store(*cache, Key(1), nullptr);
  EXPECT_FALSE(Contains(*cache, Key(1)));
  EXPECT_EQ(cache->GetStats().entries, 0u);
}

TEST_F(MemoryCacheTest, EvictExpiredReclaimsWithoutReads) {
  auto cache = MakeCache({.ttl = seconds(10)});
  Store(*cache, Key(1), MakeCompletion("a"));
  Store(*cache, Key(2), MakeCompletion("b"));
  clock_.Advance(seconds(5));
  Store(*cache, Key(3), MakeCompletion("c"));
  EXPECT_EQ(cache->EvictExpired(), 0u);

  clock_.Advance(seconds(5));  // Key(1) and Key(2) reach their TTL; Key(3) has 5 s left.
  EXPECT_EQ(cache->EvictExpired(), 2u);
  MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.bytes, MemoryCache::EntryBytes(Key(3), *MakeCompletion("c")));
  EXPECT_EQ(stats.expirations, 2u);
  EXPECT_EQ(stats.hits + stats.misses, 0u);  // No read was needed.

  clock_.Advance(seconds(5));
  EXPECT_EQ(cache->EvictExpired(), 1u);
  stats = cache->GetStats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
}

TEST_F(MemoryCacheTest, StoreReclaimsExpiredEntriesBeforeEvictingLiveOnes) {
  auto cache = MakeCache({.ttl = seconds(10), .max_entries = 2});
  Store(*cache, Key(1), MakeCompletion("a"));
  clock_.Advance(seconds(5));
  Store(*cache, Key(2), MakeCompletion("b"));
  clock_.Advance(seconds(5));  // Key(1) expired, Key(2) live.
  Store(*cache, Key(3), MakeCompletion("c"));
  EXPECT_TRUE(Contains(*cache, Key(2)));
  EXPECT_TRUE(Contains(*cache, Key(3)));
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.expirations, 1u);
}

TEST_F(MemoryCacheTest, ReplacingAnEntryUpdatesByteAccounting) {
  auto cache = MakeCache({});
  Store(*cache, Key(1), MakeCompletion(std::string(1000, 'a')));
  const CachedCompletion replacement = MakeCompletion("short");
  Store(*cache, Key(1), replacement);
  const MemoryCache::Stats stats = cache->GetStats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.bytes, MemoryCache::EntryBytes(Key(1), *replacement));
  EXPECT_EQ(stats.evictions, 0u);
  const std::optional<CachedCompletion> hit = Lookup(*cache, Key(1));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ((*hit)->content, "short");
}

TEST_F(MemoryCacheTest, ReplacingRestartsTheTtl) {
  auto cache = MakeCache({.ttl = seconds(10)});
  Store(*cache, Key(1), MakeCompletion("first"));
  clock_.Advance(seconds(8));
  Store(*cache, Key(1), MakeCompletion("second"));
  clock_.Advance(seconds(8));
  EXPECT_EQ(cache->EvictExpired(), 0u);
  EXPECT_TRUE(Contains(*cache, Key(1)));
}

TEST_F(MemoryCacheTest, ShardedBoundsNeverExceedTheTotals) {
  struct Row {
    const char* name;
    std::size_t max_entries;
    std::size_t max_bytes;
    std::size_t value_length;
  };
  const std::vector<Row> rows = {
      {"entry-bound", 160, std::size_t{64} << 20, 1},
      {"byte-bound over 16 shards", 10000, std::size_t{16} << 20, 10'000},
      {"fewer entries than shards", 4, std::size_t{64} << 20, 1},
      {"entries not a multiple of shards", 17, std::size_t{64} << 20, 1},
      {"small byte bound", 10000, 50'000, 100},
  };
  for (const Row& row : rows) {
    MemoryCache cache({.max_entries = row.max_entries, .max_bytes = row.max_bytes, .shards = 16},
                      clock_);
    for (int i = 0; i < 2000; ++i) {
      Store(cache, Key(i), MakeCompletion(std::string(row.value_length, 'v')));
    }
    const MemoryCache::Stats stats = cache.GetStats();
    EXPECT_LE(stats.entries, row.max_entries) << row.name;
    EXPECT_LE(stats.bytes, row.max_bytes) << row.name;
    EXPECT_GT(stats.entries, 0u) << row.name;
    EXPECT_EQ(stats.entries + stats.evictions, 2000u) << row.name;
  }
}

TEST_F(MemoryCacheTest, SmallByteBoundIsOneExactLru) {
  const std::size_t entry_bytes = MemoryCache::EntryBytes(Key(1), *MakeCompletion("v"));
  // Under kMinShardBytes in total: one shard despite the default of 16.
  MemoryCache cache({.max_bytes = 3 * entry_bytes}, clock_);
  for (int i = 1; i <= 4; ++i) {
    Store(cache, Key(i), MakeCompletion("v"));
  }
  EXPECT_FALSE(Contains(cache, Key(1)));
  EXPECT_TRUE(Contains(cache, Key(2)));
  EXPECT_TRUE(Contains(cache, Key(3)));
  EXPECT_TRUE(Contains(cache, Key(4)));
}

// One I/O thread's traffic: stores, lookups, and now and then time passing and a sweep.
// Pointers, not references: the test owns everything and joins before it ends.
Task<void> Hammer(MemoryCache* cache, ManualClock* clock, int thread, int operations,
                  std::atomic<std::uint64_t>* lookups) {
  for (int i = 0; i < operations; ++i) {
    const CacheKey key = Key((i * 7 + thread) % 300);
    if (i % 3 == 0) {
      const auto length = static_cast<std::size_t>(i % 20);
      co_await cache->Store(key, MakeCompletion(std::string(length, 'z')));
    } else {
      co_await cache->Lookup(key);
      lookups->fetch_add(1, std::memory_order_relaxed);
    }
    if (i % 500 == 0) {
      clock->Advance(seconds(1));
      cache->EvictExpired();
      (void)cache->GetStats();
    }
  }
}

TEST_F(MemoryCacheTest, ConcurrentUseFromEightThreadsKeepsBounds) {
  constexpr int kThreads = 8;
  constexpr int kOperationsPerThread = 4000;
  const std::size_t max_bytes = 40 * MemoryCache::EntryBytes(Key(1), *MakeCompletion("0123456789"));
  MemoryCache cache({.ttl = seconds(5), .max_entries = 64, .max_bytes = max_bytes}, clock_);
  std::atomic<std::uint64_t> lookups{0};
  std::vector<std::exception_ptr> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      net::io_context io;
      net::co_spawn(io, Hammer(&cache, &clock_, t, kOperationsPerThread, &lookups),
                    [&failures, t](std::exception_ptr error) { failures[t] = std::move(error); });
      io.run();
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const std::exception_ptr& failure : failures) {
    EXPECT_EQ(failure, nullptr);
  }
  const MemoryCache::Stats stats = cache.GetStats();
  EXPECT_LE(stats.entries, 64u);
  EXPECT_LE(stats.bytes, max_bytes);
  EXPECT_EQ(stats.hits + stats.misses, lookups.load());
  EXPECT_GT(stats.hits, 0u);
}

TEST_F(MemoryCacheTest, SweeperReclaimsExpiredEntriesAndStopsWhenCancelled) {
  auto cache = MakeCache({.ttl = seconds(10)});
  for (int i = 0; i < 3; ++i) {
    Store(*cache, Key(i), MakeCompletion("a"));
  }
  clock_.Advance(seconds(10));

  net::io_context io;
  net::cancellation_signal stop;
  bool finished = false;
  std::exception_ptr failure;
  net::co_spawn(io, cache->RunSweeper(std::chrono::milliseconds(1)),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr error) {
                  finished = true;
                  failure = std::move(error);
                }));
  // Each run_one completes one sweep; the cap only keeps a broken sweeper from hanging.
  for (int i = 0; i < 10'000 && cache->GetStats().expirations < 3; ++i) {
    io.run_one_for(std::chrono::seconds(5));
  }
  EXPECT_EQ(cache->GetStats().expirations, 3u);
  EXPECT_EQ(cache->GetStats().entries, 0u);
  EXPECT_FALSE(finished);

  stop.emit(net::cancellation_type::terminal);
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(finished);
  EXPECT_EQ(failure, nullptr);
}

TEST_F(MemoryCacheTest, SweeperStopsOnTotalCancellationWithoutWaitingForItsInterval) {
  auto cache = MakeCache({});
  net::io_context io;
  net::cancellation_signal stop;
  bool finished = false;
  std::exception_ptr failure;
  net::co_spawn(io, cache->RunSweeper(std::chrono::hours(1)),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr error) {
                  finished = true;
                  failure = std::move(error);
                }));
  io.poll();  // Runs the sweeper up to its first wait.
  EXPECT_FALSE(finished);
  stop.emit(net::cancellation_type::total);
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(finished);
  EXPECT_EQ(failure, nullptr);
}

}  // namespace
}  // namespace cms::cache
