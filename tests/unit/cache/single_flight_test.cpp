#include "cache/single_flight.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include "core/worker_pool.hpp"
#include "support/eventually.hpp"

namespace cms::cache {
namespace {

using boost::asio::experimental::awaitable_operators::operator||;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using Flights = SingleFlight<std::string>;

using testing_support::BecomesReady;
using testing_support::Eventually;
using testing_support::IsReady;

// Expects `future` to hold the operation_aborted a cancelled caller gets.
template <class T>
void ExpectAborted(std::future<T>& future) {
  ASSERT_TRUE(BecomesReady(future));
  try {
    future.get();
    ADD_FAILURE() << "a cancelled caller got a result";
  } catch (const boost::system::system_error& error) {
    EXPECT_EQ(error.code(), net::error::operation_aborted);
  }
}

// What the test sees of the work: how often it ran, whether it saw cancellation, and a
// switch that lets it finish. Shared by the work coroutines, which may outlive any caller.
struct Probe {
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};
  std::atomic<int> running{0};
  std::atomic<bool> release{false};
};

class Running {
 public:
  explicit Running(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
  ~Running() { --counter_; }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  Running(Running&&) = delete;
  Running& operator=(Running&&) = delete;

 private:
  std::atomic<int>& counter_;
};

// Polls `probe->release`, so it can be let go from any thread; every wait is an operation
// that cancellation aborts, which it records.
Task<std::string> HeldWork(std::shared_ptr<Probe> probe, std::string answer, bool fails) {
  ++probe->calls;
  const Running running{probe->running};
  SteadyTimer timer{co_await net::this_coro::executor};
  while (!probe->release) {
    timer.expires_after(milliseconds(1));
    try {
      co_await timer.async_wait(kUseTask);
    } catch (const boost::system::system_error& error) {
      if (error.code() == net::error::operation_aborted) ++probe->cancelled;
      throw;
    }
  }
  if (fails) throw std::runtime_error("upstream exploded");
  co_return answer;
}

Flights::Work Held(std::shared_ptr<Probe> probe, std::string answer, bool fails = false) {
  return [probe = std::move(probe), answer = std::move(answer), fails] {
    return HeldWork(probe, answer, fails);
  };
}

std::future<Flights::Outcome> Spawn(net::io_context& context, Flights& flights, std::string key,
                                    Flights::Work work) {
  return net::co_spawn(context, flights.Run(std::move(key), std::move(work)), net::use_future);
}

// A caller the test can cancel, as the handler's client-gone watcher would.
struct CancellableCaller {
  net::cancellation_signal signal;
  std::future<Flights::Outcome> outcome;

  void Start(net::io_context& context, Flights& flights, std::string key, Flights::Work work) {
    outcome = net::co_spawn(context, flights.Run(std::move(key), std::move(work)),
                            net::bind_cancellation_slot(signal.slot(), net::use_future));
  }
  // Emits on the caller's own executor, where its cancellation slot lives.
  void Cancel(net::io_context& context) {
    net::post(context, [this] { signal.emit(net::cancellation_type::terminal); });
  }
};

class SingleFlightPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { pool_.Start(); }
  void TearDown() override {
    // Every work must have ended before the contexts go.
    EXPECT_TRUE(Eventually([&] { return probe_->running == 0; }));
    pool_.Stop();
  }

  net::io_context& Context(std::size_t i) { return pool_.Context(i % pool_.Size()); }

  // A caller whose signal lives until the pool has stopped: its coroutine still reads it
  // for a moment after the future is ready.
  CancellableCaller& NewCaller() { return callers_.emplace_back(); }

  // Declared before the pool so that they outlive the pool's threads.
  std::list<CancellableCaller> callers_;
  Flights flights_;
  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  core::WorkerPool pool_{3};
};

TEST_F(SingleFlightPoolTest, TenConcurrentCallersAcrossThreadsShareOneCall) {
  std::vector<std::future<Flights::Outcome>> outcomes;
  for (std::size_t i = 0; i < 10; ++i) {
    outcomes.push_back(Spawn(Context(i), flights_, "key", Held(probe_, "answer")));
  }
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 10; }));
  probe_->release = true;

  int joined = 0;
  const std::string* shared = nullptr;
  for (auto& future : outcomes) {
    ASSERT_TRUE(BecomesReady(future));
    const Flights::Outcome outcome = future.get();
    ASSERT_NE(outcome.result, nullptr);
    EXPECT_EQ(*outcome.result, "answer");
    if (shared == nullptr) shared = outcome.result.get();
    EXPECT_EQ(outcome.result.get(), shared) << "every caller shares one result object";
    joined += outcome.joined ? 1 : 0;
  }
  EXPECT_EQ(joined, 9);
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(flights_.Flights(), 0u);
  EXPECT_EQ(flights_.Callers("key"), 0u);
}

TEST_F(SingleFlightPoolTest, DifferentKeysRunIndependentWork) {
  auto a = Spawn(Context(0), flights_, "a", Held(probe_, "answer-a"));
  auto b = Spawn(Context(1), flights_, "b", Held(probe_, "answer-b"));
  ASSERT_TRUE(Eventually([&] { return flights_.Flights() == 2; }));
  EXPECT_EQ(flights_.Callers("a"), 1u);
  EXPECT_EQ(flights_.Callers("b"), 1u);
  probe_->release = true;

  ASSERT_TRUE(BecomesReady(a));
  ASSERT_TRUE(BecomesReady(b));
  const Flights::Outcome outcome_a = a.get();
  const Flights::Outcome outcome_b = b.get();
  EXPECT_EQ(*outcome_a.result, "answer-a");
  EXPECT_EQ(*outcome_b.result, "answer-b");
  EXPECT_FALSE(outcome_a.joined);
  EXPECT_FALSE(outcome_b.joined);
  EXPECT_EQ(probe_->calls, 2);
}

TEST_F(SingleFlightPoolTest, WorkOutlivesACancelledLeaderAndServesTheOthers) {
  CancellableCaller& leader = NewCaller();
  leader.Start(Context(0), flights_, "key", Held(probe_, "answer"));
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 1; }));
  auto joiner_1 = Spawn(Context(1), flights_, "key", Held(probe_, "unused"));
  auto joiner_2 = Spawn(Context(2), flights_, "key", Held(probe_, "unused"));
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 3; }));

  leader.Cancel(Context(0));
  ExpectAborted(leader.outcome);
  EXPECT_EQ(flights_.Callers("key"), 2u);
  EXPECT_EQ(probe_->cancelled, 0) << "the work must go on for the callers still waiting";

  probe_->release = true;
  for (auto* joiner : {&joiner_1, &joiner_2}) {
    ASSERT_TRUE(BecomesReady(*joiner));
    const Flights::Outcome outcome = joiner->get();
    EXPECT_EQ(*outcome.result, "answer");
    EXPECT_TRUE(outcome.joined);
  }
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(probe_->cancelled, 0);
}

TEST_F(SingleFlightPoolTest, LastCallerLeavingCancelsTheWorkAndFreesTheKey) {
  CancellableCaller& leader = NewCaller();
  CancellableCaller& joiner = NewCaller();
  leader.Start(Context(0), flights_, "key", Held(probe_, "answer"));
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 1; }));
  joiner.Start(Context(1), flights_, "key", Held(probe_, "unused"));
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 2; }));

  joiner.Cancel(Context(1));
  ExpectAborted(joiner.outcome);
  EXPECT_EQ(flights_.Flights(), 1u) << "one caller still waits";
  leader.Cancel(Context(0));
  ExpectAborted(leader.outcome);
  EXPECT_EQ(flights_.Flights(), 0u) << "an abandoned key is free at once";

  ASSERT_TRUE(Eventually([&] { return probe_->cancelled == 1 && probe_->running == 0; }));

  // The same key now starts new work instead of joining the cancelled one.
  auto again = Spawn(Context(2), flights_, "key", Held(probe_, "second answer"));
  ASSERT_TRUE(Eventually([&] { return probe_->calls == 2; }));
  probe_->release = true;
  ASSERT_TRUE(BecomesReady(again));
  const Flights::Outcome outcome = again.get();
  EXPECT_EQ(*outcome.result, "second answer");
  EXPECT_FALSE(outcome.joined);
}

TEST_F(SingleFlightPoolTest, WorkExceptionReachesEveryCaller) {
  std::vector<std::future<Flights::Outcome>> outcomes;
  for (std::size_t i = 0; i < 3; ++i) {
    outcomes.push_back(Spawn(Context(i), flights_, "key", Held(probe_, "unused", /*fails=*/true)));
  }
  ASSERT_TRUE(Eventually([&] { return flights_.Callers("key") == 3; }));
  probe_->release = true;
  for (auto& future : outcomes) {
    ASSERT_TRUE(BecomesReady(future));
    try {
      future.get();
      ADD_FAILURE() << "the work's exception was swallowed";
    } catch (const std::runtime_error& error) {
      EXPECT_STREQ(error.what(), "upstream exploded");
    }
  }
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(flights_.Flights(), 0u);

  auto after = Spawn(Context(0), flights_, "key", Held(probe_, "recovered"));
  ASSERT_TRUE(BecomesReady(after));
  EXPECT_EQ(*after.get().result, "recovered");
  EXPECT_EQ(probe_->calls, 2);
}

TEST_F(SingleFlightPoolTest, KeyIsReusableAfterCompletion) {
  probe_->release = true;
  for (int round = 1; round <= 3; ++round) {
    auto future = Spawn(Context(round), flights_, "key", Held(probe_, "answer"));
    ASSERT_TRUE(BecomesReady(future));
    const Flights::Outcome outcome = future.get();
    EXPECT_EQ(*outcome.result, "answer");
    EXPECT_FALSE(outcome.joined) << "round " << round;
    EXPECT_EQ(probe_->calls, round);
    EXPECT_EQ(flights_.Flights(), 0u);
  }
}

// Single-threaded tests below drive one io_context by hand, so the order of events is
// exact: they pin down the races a thread pool only hits by chance.

// Work that ends when the test cancels `release` (an io_context the test drives itself).
Task<std::string> GatedWork(std::shared_ptr<SteadyTimer> release, std::shared_ptr<Probe> probe) {
  ++probe->calls;
  co_await release->async_wait(kAsTuple);
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  if (state.cancelled() != net::cancellation_type::none) {
    ++probe->cancelled;
    throw boost::system::system_error(net::error::operation_aborted);
  }
  co_return "gated answer";
}

class SingleFlightOrderTest : public ::testing::Test {
 protected:
  Flights::Work Gated() {
    return [release = release_, probe = probe_] { return GatedWork(release, probe); };
  }

  net::io_context context_;
  std::shared_ptr<SteadyTimer> release_ =
      std::make_shared<SteadyTimer>(context_, std::chrono::steady_clock::time_point::max());
  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  Flights flights_;
};

TEST_F(SingleFlightOrderTest, CallerLosingARaceLeavesAndCancelsTheWork) {
  // How the handler uses it: the answer races the client leaving.
  auto race = [](Flights& flights, Flights::Work work) -> Task<std::size_t> {
    SteadyTimer client_gone{co_await net::this_coro::executor, milliseconds(0)};
    auto winner =
        co_await (flights.Run("key", std::move(work)) || client_gone.async_wait(kUseTask));
    co_return winner.index();
  };
  auto future = net::co_spawn(context_, race(flights_, Gated()), net::use_future);
  context_.run();
  ASSERT_TRUE(IsReady(future));
  EXPECT_EQ(future.get(), 1u);
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(probe_->cancelled, 1);
  EXPECT_EQ(flights_.Flights(), 0u);
}

// How the completions handler races it: AsyncRun and another plain operation in one
// parallel group, with no coroutine of their own.
Task<std::size_t> RaceInGroup(Flights& flights, Flights::Work work, milliseconds patience,
                              std::shared_ptr<Flights::Outcome> outcome) {
  const Executor executor = co_await net::this_coro::executor;
  SteadyTimer client_gone{executor, patience};
  auto [order, failure, flight, gone] =
      co_await net::experimental::make_parallel_group(
          flights.AsyncRun(executor, "key", std::move(work), net::deferred),
          client_gone.async_wait(net::deferred))
          .async_wait(net::experimental::wait_for_one(), kUseTask);
  if (order[0] == 0) {
    if (failure) std::rethrow_exception(failure);
    *outcome = flight;
  }
  co_return order[0];
}

TEST_F(SingleFlightOrderTest, ParallelGroupLoserLeavesTheFlightAndCancelsTheWork) {
  auto outcome = std::make_shared<Flights::Outcome>();
  auto future = net::co_spawn(context_, RaceInGroup(flights_, Gated(), milliseconds(0), outcome),
                              net::use_future);
  context_.run();
  ASSERT_TRUE(IsReady(future));
  EXPECT_EQ(future.get(), 1u);
  EXPECT_EQ(outcome->result, nullptr);
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(probe_->cancelled, 1);
  EXPECT_EQ(flights_.Flights(), 0u);
}

TEST_F(SingleFlightOrderTest, ParallelGroupWinnerGetsTheResultAndEndsTheOtherOperation) {
  auto outcome = std::make_shared<Flights::Outcome>();
  auto future =
      net::co_spawn(context_, RaceInGroup(flights_, Gated(), hours(1), outcome), net::use_future);
  context_.poll();
  ASSERT_EQ(flights_.Callers("key"), 1u);
  release_->cancel();
  context_.run();  // Returns only once the hour-long timer was cancelled too.
  ASSERT_TRUE(IsReady(future));
  EXPECT_EQ(future.get(), 0u);
  ASSERT_NE(outcome->result, nullptr);
  EXPECT_EQ(*outcome->result, "gated answer");
  EXPECT_FALSE(outcome->joined);
  EXPECT_EQ(probe_->cancelled, 0);
  EXPECT_EQ(flights_.Flights(), 0u);
}

TEST_F(SingleFlightOrderTest, CallerCancelledAfterTheWorkFinishedStillGetsTheResult) {
  auto leader = Spawn(context_, flights_, "key", Gated());
  CancellableCaller joiner;
  joiner.Start(context_, flights_, "key", Gated());
  context_.poll();
  ASSERT_EQ(flights_.Callers("key"), 2u);

  release_->cancel();                                    // The work's answer is queued...
  joiner.signal.emit(net::cancellation_type::terminal);  // ...before the joiner learns it left.
  context_.poll();

  ASSERT_TRUE(IsReady(leader));
  ASSERT_TRUE(IsReady(joiner.outcome));
  EXPECT_EQ(*leader.get().result, "gated answer");
  const Flights::Outcome joined = joiner.outcome.get();
  EXPECT_EQ(*joined.result, "gated answer");
  EXPECT_TRUE(joined.joined);
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(flights_.Flights(), 0u);
}

TEST_F(SingleFlightOrderTest, CallerLeavingWhileOthersWaitDoesNotDisturbThem) {
  auto leader = Spawn(context_, flights_, "key", Gated());
  CancellableCaller joiner;
  joiner.Start(context_, flights_, "key", Gated());
  context_.poll();
  ASSERT_EQ(flights_.Callers("key"), 2u);

  joiner.signal.emit(net::cancellation_type::terminal);
  context_.poll();
  ExpectAborted(joiner.outcome);
  EXPECT_EQ(flights_.Callers("key"), 1u);
  EXPECT_EQ(probe_->cancelled, 0) << "the leader still waits";

  release_->cancel();
  context_.poll();

  ASSERT_TRUE(IsReady(leader));
  EXPECT_EQ(*leader.get().result, "gated answer");
  EXPECT_EQ(probe_->calls, 1);
  EXPECT_EQ(probe_->cancelled, 0);
  EXPECT_EQ(flights_.Flights(), 0u);
}

TEST_F(SingleFlightOrderTest, WorkThatFinishesWithoutSuspendingStillServesItsCaller) {
  auto instant = [] { return []() -> Task<std::string> { co_return "instant"; }(); };
  auto future = Spawn(context_, flights_, "key", instant);
  context_.run();
  ASSERT_TRUE(IsReady(future));
  const Flights::Outcome outcome = future.get();
  EXPECT_EQ(*outcome.result, "instant");
  EXPECT_FALSE(outcome.joined);
  EXPECT_EQ(flights_.Flights(), 0u);
}

TEST_F(SingleFlightOrderTest, FlightsFinishAfterTheSingleFlightIsDestroyed) {
  auto owned = std::make_unique<Flights>();
  auto future = Spawn(context_, *owned, "key", Gated());
  context_.poll();
  owned.reset();
  release_->cancel();
  context_.run();
  ASSERT_TRUE(IsReady(future));
  EXPECT_EQ(*future.get().result, "gated answer");
}

// Stress: many callers over few keys on three threads; the work takes a random while and
// sometimes fails; callers give up at random moments by racing a timer, as a client that
// disconnects would. Run under -DCMS_SANITIZE=ON to catch races and lifetime errors.
struct StressCounters {
  std::atomic<int> works{0};
  std::atomic<int> running{0};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::atomic<int> gave_up{0};
  std::atomic<int> wrong{0};
};

Task<std::string> StressWork(std::shared_ptr<StressCounters> counters, std::string key,
                             microseconds delay, bool fails) {
  ++counters->works;
  const Running running{counters->running};
  SteadyTimer timer{co_await net::this_coro::executor, delay};
  co_await timer.async_wait(kUseTask);
  if (fails) throw std::runtime_error("failed:" + key);
  co_return "value:" + key;
}

// The work's failure as a value: `||` (wait for one success) would otherwise hold a
// failed Run until the other side ends.
Task<std::string> RunReportingFailure(Flights& flights, std::string key, Flights::Work work) {
  try {
    const Flights::Outcome outcome = co_await flights.Run(std::move(key), std::move(work));
    co_return *outcome.result;
  } catch (const boost::system::system_error&) {
    throw;  // Cancelled: the race is lost anyway.
  } catch (const std::runtime_error& error) {
    co_return error.what();
  }
}

Task<void> StressCaller(Flights& flights, std::shared_ptr<StressCounters> counters, std::string key,
                        microseconds work_delay, bool work_fails, microseconds patience) {
  Flights::Work work = [counters, key, work_delay, work_fails] {
    return StressWork(counters, key, work_delay, work_fails);
  };
  SteadyTimer give_up{co_await net::this_coro::executor, patience};
  auto winner =
      co_await (RunReportingFailure(flights, key, std::move(work)) || give_up.async_wait(kUseTask));
  if (winner.index() == 1) {
    ++counters->gave_up;
  } else if (std::get<0>(winner) == "value:" + key) {
    ++counters->answered;
  } else if (std::get<0>(winner) == "failed:" + key) {
    ++counters->failed;
  } else {
    ++counters->wrong;
  }
}

TEST(SingleFlightStressTest, RandomCancellationsNeitherLeakNorCrossKeys) {
  Flights flights;
  auto counters = std::make_shared<StressCounters>();
  core::WorkerPool pool{3};
  pool.Start();
  std::mt19937 random{20240601};
  std::uniform_int_distribution<int> micros{0, 2000};
  std::bernoulli_distribution fails{0.1};
  std::bernoulli_distribution impatient{0.4};

  constexpr int kRounds = 10;
  constexpr int kCallersPerRound = 100;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::future<void>> callers;
    for (int i = 0; i < kCallersPerRound; ++i) {
      const std::string key = "key-" + std::to_string(i % 5);
      const microseconds patience{impatient(random) ? micros(random) : 10'000'000};
      callers.push_back(
          net::co_spawn(pool.Context(i % pool.Size()),
                        StressCaller(flights, counters, key, microseconds{micros(random)},
                                     fails(random), patience),
                        net::use_future));
    }
    for (auto& caller : callers) {
      ASSERT_TRUE(BecomesReady(caller));
      caller.get();
    }
  }
  ASSERT_TRUE(Eventually([&] { return counters->running == 0; }));
  pool.Stop();

  EXPECT_EQ(counters->wrong, 0);
  EXPECT_GT(counters->answered, 0);
  EXPECT_GT(counters->failed, 0);
  EXPECT_GT(counters->gave_up, 0);
  EXPECT_EQ(counters->answered + counters->failed + counters->gave_up, kRounds * kCallersPerRound);
  EXPECT_GT(counters->works, 0);
  EXPECT_LE(counters->works, kRounds * kCallersPerRound);
  EXPECT_EQ(flights.Flights(), 0u);
}

}  // namespace
}  // namespace cms::cache
