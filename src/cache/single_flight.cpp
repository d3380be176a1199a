#include "cache/single_flight.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

namespace cms::cache {
namespace single_flight_internal {

struct Registry {
  mutable std::mutex mutex;
  // Guarded by mutex: the flights still open to new callers.
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
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

  // Used only on work_executor: the work coroutine's cancellation slot is bound to it.
  net::cancellation_signal cancel_work;
};

std::exception_ptr Aborted() {
  return std::make_exception_ptr(
      boost::system::system_error(net::error::operation_aborted, "SingleFlight::Run"));
}

namespace {

using FlightPtr = std::shared_ptr<Flight>;

// Removes `flight` from the map unless a newer flight already took its key.
void ForgetLocked(Registry& registry, const FlightPtr& flight) {
  const auto it = registry.flights.find(flight->key);
  if (it != registry.flights.end() && it->second == flight) registry.flights.erase(it);
}

void Finish(const FlightPtr& flight, const SharedResult& result, const std::exception_ptr& error) {
  std::vector<std::shared_ptr<Waiter>> to_complete;
  {
    const std::lock_guard lock(flight->registry->mutex);
    flight->finished = true;
    to_complete.swap(flight->waiters);
    ForgetLocked(*flight->registry, flight);
  }
  for (const std::shared_ptr<Waiter>& waiter : to_complete) waiter->Complete(error, result);
}

Task<void> RunWork(FlightPtr flight, UntypedSingleFlight::Work work) {
  SharedResult result;
  std::exception_ptr error;
  try {
    result = co_await work();
    if (!result) throw std::logic_error("SingleFlight work returned a null result");
  } catch (...) {
    error = std::current_exception();
  }
  Finish(flight, result, error);
}

void StartWork(const FlightPtr& flight, UntypedSingleFlight::Work work) {
  // RunWork has already completed the callers when the completion handler runs. The
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

}  // namespace
}  // namespace single_flight_internal

using single_flight_internal::Registry;

UntypedSingleFlight::UntypedSingleFlight() : registry_(std::make_shared<Registry>()) {}

UntypedSingleFlight::~UntypedSingleFlight() = default;

UntypedSingleFlight::Ticket UntypedSingleFlight::Join(const std::string& key,
                                                      const Executor& executor, WaiterPtr waiter,
                                                      Work work) {
  Ticket ticket;
  {
    const std::lock_guard lock(registry_->mutex);
    FlightPtr& flight = registry_->flights[key];
    ticket.joined = flight != nullptr;
    if (!ticket.joined) {
      flight = std::make_shared<single_flight_internal::Flight>(key, executor, registry_);
    }
    flight->waiters.push_back(std::move(waiter));
    ticket.flight = flight;
  }
  // Not under the lock: co_spawn may run the work's first steps before it returns.
  if (!ticket.joined) single_flight_internal::StartWork(ticket.flight, std::move(work));
  return ticket;
}

bool UntypedSingleFlight::Leave(const FlightPtr& flight, const WaiterPtr& waiter) {
  bool abandoned = false;
  {
    const std::lock_guard lock(flight->registry->mutex);
    if (flight->finished) return false;  // The finisher took every waiter off.
    const auto it = std::find(flight->waiters.begin(), flight->waiters.end(), waiter);
    if (it == flight->waiters.end()) return false;
    flight->waiters.erase(it);
    abandoned = flight->waiters.empty();
    if (abandoned) single_flight_internal::ForgetLocked(*flight->registry, flight);
  }
  if (abandoned) {
    net::post(flight->work_executor, [flight] { single_flight_internal::CancelWork(flight); });
  }
  return true;
}

std::size_t UntypedSingleFlight::Flights() const {
  const std::lock_guard lock(registry_->mutex);
  return registry_->flights.size();
}

std::size_t UntypedSingleFlight::Callers(const std::string& key) const {
  const std::lock_guard lock(registry_->mutex);
  const auto it = registry_->flights.find(key);
  return it == registry_->flights.end() ? 0 : it->second->waiters.size();
}

}  // namespace cms::cache
