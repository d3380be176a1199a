#include "cache/single_flight.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace cms::cache {
namespace single_flight_internal {

struct Flight;

struct Registry {
  mutable std::mutex mutex;
  // Guarded by mutex: the flights still open to new callers.
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
};

// One waiting caller. Its timer is created, awaited, cancelled and destroyed only on its
// own executor: the finisher moves the record into a handler posted there, so even the
// last reference is dropped on the caller's thread.
struct Waiter {
  explicit Waiter(const Executor& caller_executor)
      : executor(caller_executor),
        timer(caller_executor, std::chrono::steady_clock::time_point::max()) {}

  const Executor executor;
  // Never expires by itself: it only ends when the finisher cancels it or the caller is
  // cancelled.
  SteadyTimer timer;
};

struct Flight {
  Flight(std::string flight_key, Executor executor, std::shared_ptr<Registry> owner)
      : key(std::move(flight_key)),
        work_executor(std::move(executor)),
        registry(std::move(owner)) {}

  // Constant after construction.
  const std::string key;
  const Executor work_executor;
  const std::shared_ptr<Registry> registry;

  // Guarded by registry->mutex.
  std::vector<std::shared_ptr<Waiter>> waiters;
  bool finished = false;
  UntypedSingleFlight::SharedResult result;
  std::exception_ptr error;

  // Used only on work_executor: the work coroutine's cancellation slot is bound to it.
  net::cancellation_signal cancel_work;
};

namespace {

using FlightPtr = std::shared_ptr<Flight>;

[[noreturn]] void ThrowAborted() {
  throw boost::system::system_error(net::error::operation_aborted, "SingleFlight::Run");
}

struct Joined {
  FlightPtr flight;
  bool leads = false;
};

Joined Join(const std::shared_ptr<Registry>& registry, const std::string& key,
            const Executor& executor, std::shared_ptr<Waiter> waiter) {
  const std::lock_guard lock(registry->mutex);
  FlightPtr& flight = registry->flights[key];
  const bool leads = flight == nullptr;
  if (leads) flight = std::make_shared<Flight>(key, executor, registry);
  flight->waiters.push_back(std::move(waiter));
  return Joined{flight, leads};
}

// Removes `flight` from the map unless a newer flight already took its key.
void ForgetLocked(Registry& registry, const FlightPtr& flight) {
  const auto it = registry.flights.find(flight->key);
  if (it != registry.flights.end() && it->second == flight) registry.flights.erase(it);
}

void Finish(const FlightPtr& flight, UntypedSingleFlight::SharedResult result,
            std::exception_ptr error) {
  std::vector<std::shared_ptr<Waiter>> to_wake;
  {
    const std::lock_guard lock(flight->registry->mutex);
    flight->finished = true;
    flight->result = std::move(result);
    flight->error = std::move(error);
    to_wake.swap(flight->waiters);
    ForgetLocked(*flight->registry, flight);
  }
  for (std::shared_ptr<Waiter>& waiter : to_wake) {
    const Executor executor = waiter->executor;
    net::post(executor, [waiter = std::move(waiter)] { waiter->timer.cancel(); });
  }
}

Task<void> RunWork(FlightPtr flight, UntypedSingleFlight::Work work) {
  UntypedSingleFlight::SharedResult result;
  std::exception_ptr error;
  try {
    result = co_await work();
    if (!result) throw std::logic_error("SingleFlight work returned a null result");
  } catch (...) {
    error = std::current_exception();
  }
  Finish(flight, std::move(result), std::move(error));
}

void StartWork(const FlightPtr& flight, UntypedSingleFlight::Work work) {
  // RunWork has already published the outcome when the completion handler runs. The
  // handler's copy of `flight` keeps `cancel_work` alive until then: the work's coroutine
  // reads its cancellation state through that signal's slot up to its last step, and the
  // callers' references may all be dropped (on other threads) before.
  net::co_spawn(flight->work_executor, RunWork(flight, std::move(work)),
                net::bind_cancellation_slot(flight->cancel_work.slot(),
                                            [flight](const std::exception_ptr&) {}));
}

// Runs on the work's executor, where its cancellation signal lives.
void CancelWork(const FlightPtr& flight) {
  {
    const std::lock_guard lock(flight->registry->mutex);
    // The work set `finished` on this same executor, so it cannot end between this check
    // and the emit below.
    if (flight->finished) return;
  }
  flight->cancel_work.emit(net::cancellation_type::terminal);
}

// A caller's place in a flight. Leaving, by any path (cancellation, an exception, the
// frame destroyed at shutdown), takes the caller off the flight; the last caller to leave
// an unfinished flight closes its key and cancels its work.
class Membership {
 public:
  Membership(FlightPtr flight, std::shared_ptr<Waiter> waiter)
      : flight_(std::move(flight)), waiter_(std::move(waiter)) {}
  // NOLINTNEXTLINE(bugprone-exception-escape): only a failing mutex or bad_alloc throws here.
  ~Membership() { Leave(); }
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;
  Membership(Membership&&) = delete;
  Membership& operator=(Membership&&) = delete;

  // The outcome, once the work has finished; std::nullopt while it runs. Ends the
  // membership when it returns a value.
  std::optional<UntypedSingleFlight::Outcome> TakeOutcome(bool joined) {
    std::exception_ptr error;
    UntypedSingleFlight::SharedResult result;
    {
      const std::lock_guard lock(flight_->registry->mutex);
      if (!flight_->finished) return std::nullopt;
      error = flight_->error;
      result = flight_->result;
    }
    flight_.reset();
    if (error) std::rethrow_exception(error);
    return UntypedSingleFlight::Outcome{std::move(result), joined};
  }

  void Leave() {
    if (!flight_) return;
    const FlightPtr flight = std::exchange(flight_, nullptr);
    bool abandoned = false;
    {
      const std::lock_guard lock(flight->registry->mutex);
      if (flight->finished) return;  // The finisher already took us off.
      std::erase(flight->waiters, waiter_);
      abandoned = flight->waiters.empty();
      if (abandoned) ForgetLocked(*flight->registry, flight);
    }
    if (abandoned) net::post(flight->work_executor, [flight] { CancelWork(flight); });
  }

 private:
  FlightPtr flight_;  // Null once left.
  const std::shared_ptr<Waiter> waiter_;
};

}  // namespace
}  // namespace single_flight_internal

using single_flight_internal::Join;
using single_flight_internal::Joined;
using single_flight_internal::Membership;
using single_flight_internal::Registry;
using single_flight_internal::StartWork;
using single_flight_internal::ThrowAborted;
using single_flight_internal::Waiter;

UntypedSingleFlight::UntypedSingleFlight() : registry_(std::make_shared<Registry>()) {}

UntypedSingleFlight::~UntypedSingleFlight() = default;

std::size_t UntypedSingleFlight::Flights() const {
  const std::lock_guard lock(registry_->mutex);
  return registry_->flights.size();
}

std::size_t UntypedSingleFlight::Callers(const std::string& key) const {
  const std::lock_guard lock(registry_->mutex);
  const auto it = registry_->flights.find(key);
  return it == registry_->flights.end() ? 0 : it->second->waiters.size();
}

Task<UntypedSingleFlight::Outcome> UntypedSingleFlight::Run(std::string key, Work work) {
  // Copied so that nothing below touches `this` after the first suspension.
  const std::shared_ptr<Registry> registry = registry_;
  const Executor executor = co_await net::this_coro::executor;
  const auto waiter = std::make_shared<Waiter>(executor);
  const Joined joined = Join(registry, key, executor, waiter);
  Membership membership{joined.flight, waiter};
  // Not under the lock: the work may start, and even finish, inside co_spawn.
  if (joined.leads) StartWork(joined.flight, std::move(work));

  for (;;) {
    if (auto outcome = membership.TakeOutcome(!joined.leads)) co_return std::move(*outcome);
    // The finisher's wake-up is posted to this executor, so it cannot run before this
    // wait has begun: no wake-up is lost.
    co_await waiter->timer.async_wait(kAsTuple);
    if (auto outcome = membership.TakeOutcome(!joined.leads)) co_return std::move(*outcome);
    const net::cancellation_state state = co_await net::this_coro::cancellation_state;
    if (state.cancelled() != net::cancellation_type::none) {
      membership.Leave();
      ThrowAborted();
    }
  }
}

}  // namespace cms::cache
