#include "simulator/sim_prompt_cache.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cms::simulator {
namespace {

TEST(PromptCacheTrackerTest, CreatesOnFirstSightAndReadsAfter) {
  PromptCacheTracker tracker;
  EXPECT_EQ(tracker.Touch(42), PromptCacheUse::kCreated);
  EXPECT_EQ(tracker.Touch(42), PromptCacheUse::kRead);
  EXPECT_EQ(tracker.Touch(43), PromptCacheUse::kCreated);
  EXPECT_EQ(tracker.Size(), 2u);
}

TEST(PromptCacheTrackerTest, ForgetsTheLeastRecentlyUsedBeyondCapacity) {
  PromptCacheTracker tracker{3};
  EXPECT_EQ(tracker.Touch(1), PromptCacheUse::kCreated);
  EXPECT_EQ(tracker.Touch(2), PromptCacheUse::kCreated);
  EXPECT_EQ(tracker.Touch(3), PromptCacheUse::kCreated);
  EXPECT_EQ(tracker.Touch(1), PromptCacheUse::kRead);     // 1 is now the most recent.
  EXPECT_EQ(tracker.Touch(4), PromptCacheUse::kCreated);  // Evicts 2, the oldest.
  EXPECT_EQ(tracker.Size(), 3u);
  EXPECT_EQ(tracker.Touch(1), PromptCacheUse::kRead);
  EXPECT_EQ(tracker.Touch(3), PromptCacheUse::kRead);
  EXPECT_EQ(tracker.Touch(2), PromptCacheUse::kCreated);  // Was forgotten.
}

TEST(PromptCacheTrackerTest, DefaultCapacityIsTenThousand) {
  PromptCacheTracker tracker;
  for (std::uint64_t key = 0; key < 10'001; ++key) {
    ASSERT_EQ(tracker.Touch(key), PromptCacheUse::kCreated);
  }
  EXPECT_EQ(tracker.Size(), 10'000u);
  EXPECT_EQ(tracker.Touch(10'000), PromptCacheUse::kRead);
  EXPECT_EQ(tracker.Touch(0), PromptCacheUse::kCreated);  // The first key went out.
}

TEST(PromptCacheTrackerTest, ClearForgetsEverything) {
  PromptCacheTracker tracker;
  ASSERT_EQ(tracker.Touch(7), PromptCacheUse::kCreated);
  tracker.Clear();
  EXPECT_EQ(tracker.Size(), 0u);
  EXPECT_EQ(tracker.Touch(7), PromptCacheUse::kCreated);
}

TEST(PromptCacheTrackerTest, ExactlyOneThreadCreatesEachKey) {
  PromptCacheTracker tracker;
  constexpr int kThreads = 4;
  constexpr std::uint64_t kKeys = 2000;
  std::vector<int> created(kThreads, 0);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&tracker, &created, t] {
      for (std::uint64_t key = 0; key < kKeys; ++key) {
        if (tracker.Touch(key) == PromptCacheUse::kCreated) ++created[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int total = 0;
  for (const int count : created) total += count;
  EXPECT_EQ(total, static_cast<int>(kKeys));
}

}  // namespace
}  // namespace cms::simulator
