#include "cache/make_response_cache.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cache/clock.hpp"
#include "core/completion.hpp"

namespace cms::cache {
namespace {

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

CachedCompletion Answer() {
  core::Completion completion;
  completion.content = "answer";
  return std::make_shared<const core::Completion>(std::move(completion));
}

TEST(MakeResponseCacheTest, MemoryBackendStoresAndExpiresWithTheGivenClock) {
  ManualClock clock;
  CacheSettings settings{.backend = CacheSettings::Backend::kMemory,
                         .memory = {.ttl = std::chrono::seconds(60)}};
  std::unique_ptr<ResponseCache> cache = MakeResponseCache(settings, clock);
  ASSERT_NE(dynamic_cast<MemoryCache*>(cache.get()), nullptr);
  ASSERT_TRUE(RunTask(cache->Store("k", Answer())).has_value());
  auto hit = RunTask(cache->Lookup("k"));
  ASSERT_TRUE(hit.has_value());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((**hit)->content, "answer");

  clock.Advance(std::chrono::seconds(60));
  auto miss = RunTask(cache->Lookup("k"));
  ASSERT_TRUE(miss.has_value());
  EXPECT_FALSE(miss->has_value());
}

TEST(MakeResponseCacheTest, ZeroTtlGivesADisabledCache) {
  std::unique_ptr<ResponseCache> cache =
      MakeResponseCache(CacheSettings{.memory = {.ttl = std::chrono::seconds(0)}});
  ASSERT_TRUE(RunTask(cache->Store("k", Answer())).has_value());
  auto miss = RunTask(cache->Lookup("k"));
  ASSERT_TRUE(miss.has_value());
  EXPECT_FALSE(miss->has_value());
}

TEST(MakeResponseCacheTest, MaintenanceSweepsTheMemoryBackendUntilCancelled) {
  ManualClock clock;
  std::unique_ptr<ResponseCache> cache =
      MakeResponseCache(CacheSettings{.memory = {.ttl = std::chrono::seconds(1)}}, clock);
  ASSERT_TRUE(RunTask(cache->Store("k", Answer())).has_value());
  clock.Advance(std::chrono::seconds(1));
  auto& memory = dynamic_cast<MemoryCache&>(*cache);

  net::io_context io;
  net::cancellation_signal stop;
  bool finished = false;
  std::exception_ptr failure;
  net::co_spawn(io, RunCacheMaintenance(*cache, std::chrono::milliseconds(1)),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr error) {
                  finished = true;
                  failure = std::move(error);
                }));
  for (int i = 0; i < 10'000 && memory.GetStats().entries != 0; ++i) {
    io.run_one_for(std::chrono::seconds(5));
  }
  EXPECT_EQ(memory.GetStats().entries, 0u);
  EXPECT_EQ(memory.GetStats().expirations, 1u);

  stop.emit(net::cancellation_type::terminal);
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(finished);
  EXPECT_EQ(failure, nullptr);
}

}  // namespace
}  // namespace cms::cache
