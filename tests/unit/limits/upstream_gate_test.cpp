#include "limits/upstream_gate.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <list>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include "core/worker_pool.hpp"
#include "support/eventually.hpp"

namespace cms::limits {
namespace {

using boost::asio::experimental::awaitable_operators::operator||;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using Permit = UpstreamGate::Permit;
using MaybePermit = std::optional<Permit>;

using testing_support::Eventually;
using testing_support::IsReady;
using testing_support::kPatience;

template <class T>
void ExpectAborted(std::future<T>& future) {
  ASSERT_TRUE(IsReady(future));
  try {
    future.get();
    ADD_FAILURE() << "a cancelled waiter got an answer";
  } catch (const boost::system::system_error& error) {
    EXPECT_EQ(error.code(), net::error::operation_aborted);
  }
}

std::future<MaybePermit> Acquire(net::io_context& context, UpstreamGate& gate) {
  return net::co_spawn(context, gate.Acquire(), net::use_future);
}

// A waiter the test can cancel, as the handler's client-gone watcher would.
struct CancellableWaiter {
  net::cancellation_signal signal;
  std::future<MaybePermit> permit;

  void Start(net::io_context& context, UpstreamGate& gate) {
    permit = net::co_spawn(context, gate.Acquire(),
                           net::bind_cancellation_slot(signal.slot(), net::use_future));
  }
};

// Most tests drive one io_context by hand, so the order of events is exact.
class UpstreamGateTest : public ::testing::Test {
 protected:
  // Runs what is ready. An io_context that ran out of work stays stopped until restarted.
  void Poll() {
    context_.restart();
    context_.poll();
  }

  // Runs what is ready; returns the permit `future` produced (it must be ready).
  MaybePermit Take(std::future<MaybePermit>& future) {
    Poll();
    EXPECT_TRUE(IsReady(future));
    return IsReady(future) ? future.get() : std::nullopt;
  }

  net::io_context context_;
};

TEST_F(UpstreamGateTest, RejectsZeroMaxInFlight) {
  EXPECT_THROW(UpstreamGate({.max_in_flight = 0, .max_waiting = 1, .max_wait = hours(1)}),
               std::invalid_argument);
}

TEST_F(UpstreamGateTest, GrantsUpToMaxInFlightWithoutWaiting) {
  UpstreamGate gate({.max_in_flight = 3, .max_waiting = 0, .max_wait = milliseconds(0)});
  std::vector<Permit> held;
  for (int i = 0; i < 3; ++i) {
    auto future = Acquire(context_, gate);
    MaybePermit permit = Take(future);
    ASSERT_TRUE(permit.has_value()) << "permit " << i;
    held.push_back(std::move(*permit));
    EXPECT_EQ(gate.InFlight(), static_cast<std::size_t>(i + 1));
  }
  held.pop_back();
  EXPECT_EQ(gate.InFlight(), 2u);
  held.clear();
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Rejected(), 0u);
}

TEST_F(UpstreamGateTest, MovingAPermitKeepsOneSlot) {
  UpstreamGate gate({.max_in_flight = 2, .max_waiting = 0, .max_wait = milliseconds(0)});
  auto first = Acquire(context_, gate);
  auto second = Acquire(context_, gate);
  MaybePermit a = Take(first);
  MaybePermit b = Take(second);
  ASSERT_TRUE(a && b);
  Permit moved = std::move(*a);
  EXPECT_EQ(gate.InFlight(), 2u);
  moved = std::move(*b);  // Releases the slot `moved` held.
  EXPECT_EQ(gate.InFlight(), 1u);
  a.reset();
  b.reset();
  EXPECT_EQ(gate.InFlight(), 1u) << "moved-from permits hold nothing";
}

TEST_F(UpstreamGateTest, TryAcquireTakesOnlyAFreeSlotAndNeverQueuesOrCounts) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  std::optional<Permit> held = gate.TryAcquire();
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(gate.InFlight(), 1u);

  EXPECT_FALSE(gate.TryAcquire().has_value());
  EXPECT_EQ(gate.Waiting(), 0u) << "TryAcquire does not queue";
  EXPECT_EQ(gate.Rejected(), 0u) << "nor count a refusal";

  // A waiter queued by Acquire is first in line for the slot TryAcquire's permit frees.
  auto waiter = Acquire(context_, gate);
  Poll();
  ASSERT_EQ(gate.Waiting(), 1u);
  held.reset();
  EXPECT_FALSE(gate.TryAcquire().has_value()) << "the slot went to the waiter";
  const MaybePermit handed = Take(waiter);
  EXPECT_TRUE(handed.has_value());
  EXPECT_EQ(gate.InFlight(), 1u);
}

struct NoQueueCase {
  const char* name;
  std::size_t max_waiting;
  milliseconds max_wait;
};

TEST_F(UpstreamGateTest, FullGateWithoutAQueueRefusesAtOnce) {
  const NoQueueCase cases[] = {
      {"no waiting room", 0, milliseconds(60'000)},
      {"no waiting time", 8, milliseconds(0)},
  };
  for (const NoQueueCase& test : cases) {
    UpstreamGate gate(
        {.max_in_flight = 1, .max_waiting = test.max_waiting, .max_wait = test.max_wait});
    auto first = Acquire(context_, gate);
    MaybePermit held = Take(first);
    ASSERT_TRUE(held.has_value()) << test.name;
    auto refused = Acquire(context_, gate);
    EXPECT_FALSE(Take(refused).has_value()) << test.name;
    EXPECT_EQ(gate.Rejected(), 1u) << test.name;
    EXPECT_EQ(gate.Waiting(), 0u) << test.name;
    EXPECT_EQ(gate.InFlight(), 1u) << test.name;
  }
}

TEST_F(UpstreamGateTest, RefusesAtOnceWhenTheQueueIsFull) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 2, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());

  auto queued_1 = Acquire(context_, gate);
  auto queued_2 = Acquire(context_, gate);
  Poll();
  EXPECT_FALSE(IsReady(queued_1));
  EXPECT_FALSE(IsReady(queued_2));
  EXPECT_EQ(gate.Waiting(), 2u);

  auto refused = Acquire(context_, gate);
  EXPECT_FALSE(Take(refused).has_value());
  EXPECT_EQ(gate.Rejected(), 1u);
  EXPECT_EQ(gate.Waiting(), 2u);

  // Drain: each released slot goes to the next waiter.
  held.reset();
  MaybePermit next = Take(queued_1);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(gate.Waiting(), 1u);
  next.reset();
  next = Take(queued_2);
  ASSERT_TRUE(next.has_value());
  next.reset();
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.Rejected(), 1u);
}

TEST_F(UpstreamGateTest, RefusesAWaiterWhenMaxWaitPasses) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = milliseconds(5)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());

  auto waiter = Acquire(context_, gate);
  Poll();
  EXPECT_EQ(gate.Waiting(), 1u);
  // Nothing releases the slot, so only the waiter's own deadline can end its wait.
  context_.restart();
  while (!IsReady(waiter) && context_.run_one_for(kPatience) > 0) {
  }
  ASSERT_TRUE(IsReady(waiter));
  EXPECT_FALSE(waiter.get().has_value());
  EXPECT_EQ(gate.Rejected(), 1u);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.InFlight(), 1u);

  held.reset();
  EXPECT_EQ(gate.InFlight(), 0u) << "the refused waiter took no slot";
}

Task<void> TakeTurn(UpstreamGate& gate, std::vector<std::string>& order, std::string name) {
  MaybePermit permit = co_await gate.Acquire();
  order.push_back(permit ? name : name + " refused");
}

TEST_F(UpstreamGateTest, HandsSlotsToWaitersInArrivalOrder) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 8, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());

  std::vector<std::string> order;
  std::vector<std::future<void>> turns;
  for (const char* name : {"a", "b", "c"}) {
    turns.push_back(net::co_spawn(context_, TakeTurn(gate, order, name), net::use_future));
    Poll();  // Queue each before the next arrives.
  }
  ASSERT_EQ(gate.Waiting(), 3u);

  held.reset();  // The slot goes to "a" at once, even before "a" runs...
  EXPECT_EQ(gate.InFlight(), 1u);
  EXPECT_EQ(gate.Waiting(), 2u);
  // ...so a newcomer arriving now queues behind "c" instead of taking it.
  turns.push_back(net::co_spawn(context_, TakeTurn(gate, order, "d"), net::use_future));
  context_.restart();
  context_.run();

  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
}

TEST_F(UpstreamGateTest, CancelledWaiterLeavesTheQueueWithoutLeakingASlot) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());
  CancellableWaiter waiter;
  waiter.Start(context_, gate);
  Poll();
  ASSERT_EQ(gate.Waiting(), 1u);

  waiter.signal.emit(net::cancellation_type::terminal);
  Poll();
  ExpectAborted(waiter.permit);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.InFlight(), 1u);
  EXPECT_EQ(gate.Rejected(), 0u) << "a caller that left was not refused";

  held.reset();
  EXPECT_EQ(gate.InFlight(), 0u);
  auto later = Acquire(context_, gate);
  EXPECT_TRUE(Take(later).has_value());
}

TEST_F(UpstreamGateTest, SlotHandedToAWaiterCancelledAtThatMomentPassesOn) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());
  CancellableWaiter leaving;
  leaving.Start(context_, gate);
  Poll();
  auto staying = Acquire(context_, gate);
  Poll();
  ASSERT_EQ(gate.Waiting(), 2u);

  held.reset();                                           // The slot is handed to `leaving`...
  leaving.signal.emit(net::cancellation_type::terminal);  // ...as it is cancelled.
  Poll();

  ExpectAborted(leaving.permit);
  MaybePermit passed_on = Take(staying);
  EXPECT_TRUE(passed_on.has_value());
  EXPECT_EQ(gate.InFlight(), 1u);
  passed_on.reset();
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
}

TEST_F(UpstreamGateTest, SlotHandedToTheLastWaiterCancelledAtThatMomentIsFreed) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());
  CancellableWaiter leaving;
  leaving.Start(context_, gate);
  Poll();

  held.reset();
  leaving.signal.emit(net::cancellation_type::terminal);
  Poll();

  ExpectAborted(leaving.permit);
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
}

TEST_F(UpstreamGateTest, CallerLosingARaceLeavesTheQueue) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  auto first = Acquire(context_, gate);
  MaybePermit held = Take(first);
  ASSERT_TRUE(held.has_value());

  // The handler's pattern: the acquisition races the client leaving, which wins here.
  auto race = [](UpstreamGate& gate) -> Task<std::size_t> {
    SteadyTimer client_gone{co_await net::this_coro::executor, milliseconds(0)};
    auto winner = co_await (gate.Acquire() || client_gone.async_wait(kUseTask));
    co_return winner.index();
  };
  auto future = net::co_spawn(context_, race(gate), net::use_future);
  context_.restart();
  context_.run();
  ASSERT_TRUE(IsReady(future));
  EXPECT_EQ(future.get(), 1u);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.InFlight(), 1u);
}

// Across threads: the permit is released on a thread that never ran the gate.
TEST(UpstreamGatePoolTest, PermitReleasedOnAnotherThreadWakesAWaiterOnItsOwnExecutor) {
  UpstreamGate gate({.max_in_flight = 1, .max_waiting = 4, .max_wait = hours(1)});
  core::WorkerPool pool{2};
  pool.Start();
  auto first = Acquire(pool.Context(0), gate);
  ASSERT_EQ(first.wait_for(kPatience), std::future_status::ready);
  MaybePermit held = first.get();
  ASSERT_TRUE(held.has_value());

  auto waiter = Acquire(pool.Context(1), gate);
  ASSERT_TRUE(Eventually([&] { return gate.Waiting() == 1; }));
  held.reset();  // On the test's own thread.
  ASSERT_EQ(waiter.wait_for(kPatience), std::future_status::ready);
  MaybePermit handed = waiter.get();
  EXPECT_TRUE(handed.has_value());
  EXPECT_EQ(gate.InFlight(), 1u);
  handed.reset();
  EXPECT_EQ(gate.InFlight(), 0u);
  pool.Stop();
}

// Holds a slot for `hold`, recording how many slots are held at once.
struct Concurrency {
  std::atomic<int> current{0};
  std::atomic<int> peak{0};
  std::atomic<int> served{0};
  std::atomic<int> refused{0};
  std::atomic<int> cancelled{0};
};

class Holding {
 public:
  explicit Holding(Concurrency& seen) : seen_(seen) {
    const int now = ++seen_.current;
    int peak = seen_.peak.load();
    while (now > peak && !seen_.peak.compare_exchange_weak(peak, now)) {
    }
  }
  ~Holding() { --seen_.current; }
  Holding(const Holding&) = delete;
  Holding& operator=(const Holding&) = delete;
  Holding(Holding&&) = delete;
  Holding& operator=(Holding&&) = delete;

 private:
  Concurrency& seen_;
};

Task<void> UseSlot(UpstreamGate& gate, std::shared_ptr<Concurrency> seen, microseconds hold) {
  MaybePermit permit;
  try {
    permit = co_await gate.Acquire();
  } catch (const boost::system::system_error& error) {
    if (error.code() == net::error::operation_aborted) ++seen->cancelled;
    throw;
  }
  if (!permit) {
    ++seen->refused;
    co_return;
  }
  ++seen->served;
  // Declared after `permit`, so the count drops before the slot is released, even when a
  // cancellation ends this coroutine early.
  const Holding holding{*seen};
  SteadyTimer timer{co_await net::this_coro::executor, hold};
  co_await timer.async_wait(kAsTuple);
}

TEST(UpstreamGatePoolTest, NeverMoreThanMaxInFlightAcrossThreads) {
  constexpr std::size_t kMaxInFlight = 4;
  constexpr int kCallers = 300;
  UpstreamGate gate({.max_in_flight = kMaxInFlight, .max_waiting = kCallers, .max_wait = hours(1)});
  auto seen = std::make_shared<Concurrency>();
  core::WorkerPool pool{3};
  pool.Start();
  std::mt19937 random{7};
  std::uniform_int_distribution<int> micros{0, 500};
  std::vector<std::future<void>> callers;
  callers.reserve(kCallers);
  for (int i = 0; i < kCallers; ++i) {
    callers.push_back(net::co_spawn(pool.Context(i % pool.Size()),
                                    UseSlot(gate, seen, microseconds{micros(random)}),
                                    net::use_future));
  }
  for (auto& caller : callers) {
    ASSERT_EQ(caller.wait_for(kPatience), std::future_status::ready);
    caller.get();
  }
  pool.Stop();
  EXPECT_EQ(seen->served, kCallers);
  EXPECT_GE(seen->peak, 1);
  EXPECT_LE(seen->peak, static_cast<int>(kMaxInFlight));
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.Rejected(), 0u);
}

// Stress: callers on three threads give up at random moments (racing a timer, as a client
// that disconnects would) while slots are handed over; short max_wait and queue bounds
// refuse others. Run under -DCMS_SANITIZE=ON to catch races and lifetime errors.
Task<void> ImpatientCaller(UpstreamGate& gate, std::shared_ptr<Concurrency> seen, microseconds hold,
                           microseconds patience) {
  SteadyTimer give_up{co_await net::this_coro::executor, patience};
  co_await (UseSlot(gate, seen, hold) || give_up.async_wait(kUseTask));
}

TEST(UpstreamGatePoolTest, RandomCancellationsNeverLeakOrOverfillSlots) {
  constexpr std::size_t kMaxInFlight = 3;
  constexpr int kCallers = 1000;
  UpstreamGate gate(
      {.max_in_flight = kMaxInFlight, .max_waiting = 20, .max_wait = milliseconds(2)});
  auto seen = std::make_shared<Concurrency>();
  core::WorkerPool pool{3};
  pool.Start();
  std::mt19937 random{11};
  std::uniform_int_distribution<int> micros{0, 3000};
  std::vector<std::future<void>> callers;
  callers.reserve(kCallers);
  for (int i = 0; i < kCallers; ++i) {
    callers.push_back(net::co_spawn(
        pool.Context(i % pool.Size()),
        ImpatientCaller(gate, seen, microseconds{micros(random) / 4}, microseconds{micros(random)}),
        net::use_future));
  }
  for (auto& caller : callers) {
    ASSERT_EQ(caller.wait_for(kPatience), std::future_status::ready);
    caller.get();
  }
  pool.Stop();

  EXPECT_LE(seen->peak, static_cast<int>(kMaxInFlight));
  EXPECT_EQ(gate.InFlight(), 0u);
  EXPECT_EQ(gate.Waiting(), 0u);
  EXPECT_EQ(gate.Rejected(), static_cast<std::uint64_t>(seen->refused));
  EXPECT_GT(seen->served, 0);
  EXPECT_GT(seen->refused, 0);
  EXPECT_GT(seen->cancelled, 0);
}

}  // namespace
}  // namespace cms::limits
