// File: cache/single_flight.hpp
//
// SingleFlight<Result>: coalesces identical concurrent cache misses. The first caller for a
// key starts the work (normally the upstream call); callers that arrive with the same key
// while it runs wait for it, and every one of them gets the same result. Ten identical
// concurrent requests make exactly one upstream call.
//
//   cache::SingleFlight<UpstreamAnswer> flights;                       // owned by the App
//   // `request` is a shared_ptr<const CompletionRequest>: the work may outlive this caller.
//   auto outcome = co_await flights.Run(key, [&provider, request, options] {
//     return provider.Complete(*request, options);
//   });
//   // outcome.result: shared_ptr<const UpstreamAnswer>, the same object for every caller.
//   // outcome.joined: false for the caller whose arrival started the work.
//
// The work belongs to the flight, not to the caller that started it. It runs as its own
// coroutine on the first caller's executor, and every caller (the first included) waits
// for it. So:
// - A caller that leaves (its coroutine is cancelled, e.g. by `Run(...) || ClientGone()`)
//   stops waiting at once; Run then throws boost::system::system_error with
//   net::error::operation_aborted. The work goes on for the callers still waiting.
// - When the last waiting caller leaves before the work ends, nobody will read the answer:
//   the flight emits terminal cancellation into the work (its pending operation completes
//   with operation_aborted, the next co_await throws), and the key is free at once, so a
//   new caller starts new work rather than joining a cancelled one.
// - When the work ends, its key is removed, so a later identical request starts new work
//   (by then it normally hits the cache instead). An exception thrown by the work is
//   rethrown to every waiting caller.
//
// Callers may run on different threads and executors: each caller is completed through its
// own executor, by a handler the finisher posts there.
//
// Why an asynchronous operation and not a coroutine: every cache miss waits on a flight,
// usually as the only caller. As an operation the wait is one record and one posted
// completion; as a coroutine it was a spawned frame, a timer and two more trips through
// the event loop (callgrind: about 10% of a cache miss's instructions).
//
// Thread safety: every method may be called from any thread at once. Memory is per key in
// flight (one entry and one small record per waiting caller); nothing is kept after the
// work ends.
//
// Lifetimes:
// - The work function is copied into the flight and runs after Run's caller may have gone:
//   it must own (capture by value, or by shared_ptr) everything it touches, except
//   services that outlive the flight (the provider, owned by the App).
// - REQUIRES: each caller's executor is serial (an io_context run by one thread, as in
//   core::WorkerPool, or a strand), and the execution contexts of callers and work outlive
//   every flight they take part in (drain the server before destroying the WorkerPool).
// - The SingleFlight object itself may be destroyed while flights run; they finish
//   without it.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/net.hpp"

namespace cms::cache {

namespace single_flight_internal {

struct Flight;
struct Registry;
using SharedResult = std::shared_ptr<const void>;

// One caller waiting for a flight. Completed exactly once: by the finisher, or by the
// caller's own cancellation, whichever takes it off the flight first.
class Waiter {
 public:
  Waiter() = default;
  virtual ~Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  Waiter(Waiter&&) = delete;
  Waiter& operator=(Waiter&&) = delete;

  // Delivers the outcome through the caller's executor, never inline: `error` when set (the
  // work's exception, or operation_aborted for a caller that left), else `result`.
  virtual void Complete(std::exception_ptr error, SharedResult result) = 0;
};

// The error a caller that left gets.
std::exception_ptr Aborted();

}  // namespace single_flight_internal

// The type-erased engine behind SingleFlight<Result>; use SingleFlight instead. Results are
// carried as shared_ptr<const void> so the coordination is compiled once, in
// single_flight.cpp.
class UntypedSingleFlight {
 public:
  using SharedResult = single_flight_internal::SharedResult;
  using Work = std::function<Task<SharedResult>()>;
  using FlightPtr = std::shared_ptr<single_flight_internal::Flight>;
  using WaiterPtr = std::shared_ptr<single_flight_internal::Waiter>;

  struct Ticket {
    FlightPtr flight;
    bool joined = false;  // True when another caller's arrival started the work.
  };

  UntypedSingleFlight();
  ~UntypedSingleFlight();
  UntypedSingleFlight(const UntypedSingleFlight&) = delete;
  UntypedSingleFlight& operator=(const UntypedSingleFlight&) = delete;
  UntypedSingleFlight(UntypedSingleFlight&&) = delete;
  UntypedSingleFlight& operator=(UntypedSingleFlight&&) = delete;

  // Adds `waiter` to the flight running for `key`, or starts `work` on `executor` as a new
  // flight with `waiter` as its first caller. The waiter is completed when the work ends.
  // `work` is called once, for a new flight only. REQUIRES: `work` is callable and returns a
  // non-null result (a null one is delivered to every caller as std::logic_error).
  Ticket Join(const std::string& key, const Executor& executor, WaiterPtr waiter, Work work);

  // Takes `waiter` off `flight` unless the finisher already did; the last caller to leave an
  // unfinished flight closes its key and cancels its work. True when this call took it off:
  // the caller then completes the waiter itself (as aborted).
  static bool Leave(const FlightPtr& flight, const WaiterPtr& waiter);

  // Keys whose work is running and still open to new callers.
  [[nodiscard]] std::size_t Flights() const;
  // Callers currently waiting on `key`'s work, the one that started it included; 0 when no
  // work runs for `key`.
  [[nodiscard]] std::size_t Callers(const std::string& key) const;

 private:
  // Shared with every running flight, so flights can finish after this object is gone.
  std::shared_ptr<single_flight_internal::Registry> registry_;
};

template <class Result>
class SingleFlight {
 public:
  using Work = std::function<Task<Result>()>;

  struct Outcome {
    std::shared_ptr<const Result> result;  // Never null; the same object for every caller.
    bool joined = false;                   // False for the caller whose arrival started the work.
  };

  SingleFlight() = default;
  SingleFlight(const SingleFlight&) = delete;
  SingleFlight& operator=(const SingleFlight&) = delete;
  SingleFlight(SingleFlight&&) = delete;
  SingleFlight& operator=(SingleFlight&&) = delete;

  // Runs `work` once per key among concurrent callers and completes each of them with its
  // result. If work for `key` is running, waits for it (joined == true); otherwise starts it
  // on the caller's executor and waits for it (joined == false).
  //
  // Completion signature: void(std::exception_ptr, Outcome). The exception is
  // - whatever `work` threw, for every caller waiting when it threw;
  // - boost::system::system_error(net::error::operation_aborted) when this caller's
  //   cancellation slot fires (any cancellation type) before the result is ready. A result
  //   that is ready before the cancellation is delivered even so.
  //
  // The caller is completed through `executor` (the handler's associated executor when it
  // has one), and new work starts there. `work` is called at most once (not at all when
  // this caller joins a running flight), so it may move what it captured.
  //
  // REQUIRES: the executor the handler runs on is serial (see the file comment); `work`
  // owns what it touches. `*this` is used only while the operation starts.
  template <class Token>
  auto AsyncRun(const Executor& executor, std::string key, Work work, Token&& token) {
    return net::async_initiate<Token, void(std::exception_ptr, Outcome)>(
        [this, executor](auto handler, std::string key, Work work) {
          this->Start(std::move(handler), executor, key, std::move(work));
        },
        token, std::move(key), std::move(work));
  }

  // AsyncRun for a coroutine: returns the outcome, throws its exception. A coroutine already
  // cancelled on entry gets operation_aborted without joining.
  Task<Outcome> Run(std::string key, Work work) {
    co_return co_await AsyncRun(co_await net::this_coro::executor, std::move(key), std::move(work),
                                kUseTask);
  }

  // Keys whose work is running and still open to new callers (for metrics and tests).
  [[nodiscard]] std::size_t Flights() const { return untyped_.Flights(); }
  // Callers currently waiting on `key`'s work; 0 when no work runs for `key`.
  [[nodiscard]] std::size_t Callers(const std::string& key) const { return untyped_.Callers(key); }

 private:
  using SharedResult = single_flight_internal::SharedResult;

  template <class Handler>
  class WaiterFor;

  // What the caller's cancellation slot holds while it waits. Weak references: the waiter
  // holds the handler, which may own the slot's signal, so strong ones would be a cycle.
  struct LeaveOnCancel {
    std::weak_ptr<single_flight_internal::Flight> flight;
    std::weak_ptr<single_flight_internal::Waiter> waiter;

    void operator()(net::cancellation_type /*type*/) const {
      const auto locked_flight = flight.lock();
      const auto locked_waiter = waiter.lock();
      if (!locked_flight || !locked_waiter) return;
      if (UntypedSingleFlight::Leave(locked_flight, locked_waiter)) {
        locked_waiter->Complete(single_flight_internal::Aborted(), nullptr);
      }
    }
  };

  template <class Handler>
  void Start(Handler handler, const Executor& fallback, const std::string& key, Work work) {
    const Executor executor = net::get_associated_executor(handler, fallback);
    auto waiter = std::make_shared<WaiterFor<Handler>>(std::move(handler), executor);
    auto slot = waiter->CancellationSlot();
    const UntypedSingleFlight::Ticket ticket =
        untyped_.Join(key, executor, waiter, Erase(std::move(work)));
    // Read by Deliver, which is posted to this same serial executor: it runs after this.
    waiter->joined = ticket.joined;
    if (slot.is_connected()) {
      slot.template emplace<LeaveOnCancel>(LeaveOnCancel{ticket.flight, waiter});
    }
  }

  // The frame owns `work`, so a work function that is itself a capturing coroutine lambda
  // stays alive for as long as its coroutine runs.
  static Task<SharedResult> Produce(Work work) {
    co_return std::make_shared<const Result>(co_await work());
  }

  // Moves `work` into Produce's frame: a flight calls its work once, so the copy a plain
  // call would make (the function object, and whatever it captured) is waste.
  static UntypedSingleFlight::Work Erase(Work work) {
    return [work = std::move(work)]() mutable { return Produce(std::move(work)); };
  }

  UntypedSingleFlight untyped_;
};

template <class Result>
template <class Handler>
class SingleFlight<Result>::WaiterFor final
    : public single_flight_internal::Waiter,
      public std::enable_shared_from_this<WaiterFor<Handler>> {
 public:
  WaiterFor(Handler handler, const Executor& executor)
      : handler_(std::move(handler)), work_guard_(executor) {}

  bool joined = false;

  auto CancellationSlot() { return net::get_associated_cancellation_slot(handler_); }

  void Complete(std::exception_ptr error, SharedResult result) override {
    net::post(work_guard_.get_executor(),
              [self = this->shared_from_this(), error = std::move(error),
               result = std::move(result)]() mutable {
                self->Deliver(std::move(error), std::move(result));
              });
  }

 private:
  void Deliver(std::exception_ptr error, SharedResult result) {
    CancellationSlot().clear();
    Outcome outcome{std::static_pointer_cast<const Result>(std::move(result)), joined};
    Handler handler = std::move(handler_);
    work_guard_.reset();
    std::move(handler)(std::move(error), std::move(outcome));
  }

  Handler handler_;
  // The caller's execution context keeps running while the caller waits.
  net::executor_work_guard<Executor> work_guard_;
};

}  // namespace cms::cache
