#include "limits/memory_limiter.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "limits/clock.hpp"

namespace cms::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

LimitDecision Admit(Limiter& limiter, std::string_view key_id, std::uint32_t cost = 1) {
  net::io_context io;
  std::optional<AdmitResult> outcome;
  std::exception_ptr error;
  net::co_spawn(io, limiter.Admit(key_id, cost), [&](std::exception_ptr e, AdmitResult result) {
    error = std::move(e);
    outcome = std::move(result);
  });
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  if (!outcome.has_value() || !outcome->has_value()) {
    ADD_FAILURE() << "the memory limiter never fails";
    return {};
  }
  return **outcome;
}

void ExpectAllowed(Limiter& limiter, std::string_view key_id, std::uint32_t cost = 1) {
  const LimitDecision decision = Admit(limiter, key_id, cost);
  EXPECT_TRUE(decision.allowed) << key_id;
  EXPECT_EQ(decision.retry_after, milliseconds(0)) << key_id;
}

void ExpectDenied(Limiter& limiter, std::string_view key_id, milliseconds retry_after,
                  std::uint32_t cost = 1) {
  const LimitDecision decision = Admit(limiter, key_id, cost);
  EXPECT_FALSE(decision.allowed) << key_id;
  EXPECT_EQ(decision.retry_after, retry_after) << key_id;
}

class MemoryLimiterTest : public ::testing::Test {
 protected:
  ManualClock clock_;
};

TEST_F(MemoryLimiterTest, AllowsTheBurstThenDeniesWithTheTimeToTheNextSlot) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 3}, clock_);
  ExpectAllowed(limiter, "a");
  ExpectAllowed(limiter, "a");
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(1000));
  clock_.Advance(milliseconds(999));
  ExpectDenied(limiter, "a", milliseconds(1));
  clock_.Advance(milliseconds(1));
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(1000));
}

TEST_F(MemoryLimiterTest, DeniedRequestsConsumeNothing) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 1}, clock_);
  ExpectAllowed(limiter, "a");
  for (int i = 0; i < 100; ++i) {
    ExpectDenied(limiter, "a", milliseconds(1000));
  }
  clock_.Advance(seconds(1));
  ExpectAllowed(limiter, "a");
}

TEST_F(MemoryLimiterTest, RefillsAtTheConfiguredRateUpToTheBurst) {
  MemoryLimiter limiter({.requests_per_minute = 120, .burst = 4}, clock_);  // T = 500 ms.
  for (int i = 0; i < 4; ++i) {
    ExpectAllowed(limiter, "a");
  }
  ExpectDenied(limiter, "a", milliseconds(500));
  clock_.Advance(milliseconds(1000));  // Two slots back.
  ExpectAllowed(limiter, "a");
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(500));

  clock_.Advance(seconds(60));  // Idle far longer than a full refill: still only the burst.
  for (int i = 0; i < 4; ++i) {
    ExpectAllowed(limiter, "a");
  }
  ExpectDenied(limiter, "a", milliseconds(500));
}

TEST_F(MemoryLimiterTest, KeysAreLimitedIndependently) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 2}, clock_);
  ExpectAllowed(limiter, "a");
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(1000));
  ExpectAllowed(limiter, "b");
  ExpectAllowed(limiter, "b");
  ExpectDenied(limiter, "b", milliseconds(1000));
  ExpectDenied(limiter, "a", milliseconds(1000));
}

TEST_F(MemoryLimiterTest, ZeroRateMeansUnlimited) {
  MemoryLimiter limiter({.requests_per_minute = 0, .burst = 0}, clock_);
  for (int i = 0; i < 10'000; ++i) {
    ExpectAllowed(limiter, "a", 1000);
  }
  EXPECT_EQ(limiter.TrackedKeys(), 0u);
}

TEST_F(MemoryLimiterTest, ZeroBurstActsAsOne) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 0}, clock_);
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(1000));
}

TEST_F(MemoryLimiterTest, CostChargesThatManySlots) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 3}, clock_);
  ExpectAllowed(limiter, "a", 2);
  ExpectDenied(limiter, "a", milliseconds(1000), 2);
  ExpectAllowed(limiter, "a", 1);
  ExpectAllowed(limiter, "a", 0);  // Free requests always pass.
  ExpectDenied(limiter, "a", milliseconds(3000), 3);
}

TEST_F(MemoryLimiterTest, CostAboveBurstIsNeverAllowed) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 3}, clock_);
  ExpectDenied(limiter, "a", milliseconds(3000), 4);
  clock_.Advance(seconds(3600));
  ExpectDenied(limiter, "a", milliseconds(3000), 4);
  ExpectAllowed(limiter, "a", 3);  // The denials consumed nothing.
}

TEST_F(MemoryLimiterTest, RetryAfterRoundsUpToWholeMilliseconds) {
  // 7 per minute: T = 8571.428... ms, so waiting the rounded-down 8571 ms would be too early.
  MemoryLimiter limiter({.requests_per_minute = 7, .burst = 1}, clock_);
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(8572));
  clock_.Advance(milliseconds(8571));
  ExpectDenied(limiter, "a", milliseconds(1));
  clock_.Advance(milliseconds(1));
  ExpectAllowed(limiter, "a");
}

TEST_F(MemoryLimiterTest, HighRatesAllowSubMillisecondSpacing) {
  MemoryLimiter limiter({.requests_per_minute = 600'000, .burst = 1}, clock_);  // T = 100 us.
  ExpectAllowed(limiter, "a");
  ExpectDenied(limiter, "a", milliseconds(1));  // Rounded up from 100 us.
  clock_.Advance(std::chrono::microseconds(100));
  ExpectAllowed(limiter, "a");
}

TEST_F(MemoryLimiterTest, IdleKeysAreForgottenSoMemoryStaysBounded) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 1}, clock_);
  constexpr int kKeys = 100'000;
  std::size_t most_tracked = 0;
  for (int i = 0; i < kKeys; ++i) {
    ExpectAllowed(limiter, "key-" + std::to_string(i));
    clock_.Advance(seconds(1));  // Every earlier key is idle with a full allowance again.
    most_tracked = std::max(most_tracked, limiter.TrackedKeys());
  }
  EXPECT_LE(most_tracked, MemoryLimiter::kShardCount * MemoryLimiter::kMinSweepEntries);
}

TEST_F(MemoryLimiterTest, ActiveKeysAreNeverForgotten) {
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 1}, clock_);
  constexpr int kKeys = 40'000;  // Well past every shard's first sweep.
  for (int i = 0; i < kKeys; ++i) {
    ExpectAllowed(limiter, "key-" + std::to_string(i));
  }
  EXPECT_EQ(limiter.TrackedKeys(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; i += 997) {
    ExpectDenied(limiter, "key-" + std::to_string(i), milliseconds(1000));
  }
}

// Pointers, not references: the test owns both and joins before it ends.
Task<void> AdmitMany(MemoryLimiter* limiter, int requests, std::atomic<int>* allowed) {
  for (int i = 0; i < requests; ++i) {
    const AdmitResult result = co_await limiter->Admit("shared");
    if (result.has_value() && result->allowed) {
      allowed->fetch_add(1, std::memory_order_relaxed);
    }
  }
}

TEST_F(MemoryLimiterTest, ConcurrentCallersNeverGetMoreThanTheBurst) {
  constexpr int kThreads = 8;
  MemoryLimiter limiter({.requests_per_minute = 60, .burst = 100}, clock_);
  std::atomic<int> allowed{0};
  std::vector<std::exception_ptr> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      net::io_context io;
      net::co_spawn(io, AdmitMany(&limiter, 1000, &allowed),
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
  EXPECT_EQ(allowed.load(), 100);
}

TEST(LimiterErrorTest, ValueOfAFailedResultThrowsWithTheLogMessage) {
  const AdmitResult failed(boost::system::in_place_error, LimiterError{"redis down"});
  try {
    (void)failed.value();
    FAIL() << "value() of an error must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "limiter error: redis down");
  }
}

}  // namespace
}  // namespace cms::limits
