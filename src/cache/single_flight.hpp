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
// Callers may run on different threads and executors: each waits on a timer of its own
// executor, and the finisher wakes it by posting to that executor.
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

#include "core/net.hpp"

namespace cms::cache {

namespace single_flight_internal {
struct Registry;
}  // namespace single_flight_internal

// The type-erased engine behind SingleFlight<Result>; use SingleFlight instead. Results are
// carried as shared_ptr<const void> so the coordination is compiled once, in
// single_flight.cpp.
class UntypedSingleFlight {
 public:
  using SharedResult = std::shared_ptr<const void>;
  using Work = std::function<Task<SharedResult>()>;

  struct Outcome {
    SharedResult result;
    bool joined = false;  // True when another caller's arrival started the work.
  };

  UntypedSingleFlight();
  ~UntypedSingleFlight();
  UntypedSingleFlight(const UntypedSingleFlight&) = delete;
  UntypedSingleFlight& operator=(const UntypedSingleFlight&) = delete;

  // See SingleFlight::Run. REQUIRES: `work` is callable and returns a non-null result (a
  // null one is delivered to every caller as std::logic_error).
  Task<Outcome> Run(std::string key, Work work);

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

  // Runs `work` once per key among concurrent callers and returns its result to each.
  // If work for `key` is running, waits for it (joined == true); otherwise starts it on
  // the caller's executor and waits for it (joined == false).
  //
  // Throws:
  // - whatever `work` threw, to every caller waiting when it threw;
  // - boost::system::system_error(net::error::operation_aborted) when this caller is
  //   cancelled before the result is ready (including when it was already cancelled on
  //   entry). A result that is ready when the caller resumes is returned even if the
  //   caller was cancelled meanwhile.
  //
  // REQUIRES: `work` owns what it touches (see the file comment); `*this` outlives the
  // returned task (the caller co_awaits it at once).
  Task<Outcome> Run(std::string key, Work work) {
    UntypedSingleFlight::Outcome outcome =
        co_await untyped_.Run(std::move(key), Erase(std::move(work)));
    co_return Outcome{std::static_pointer_cast<const Result>(std::move(outcome.result)),
                      outcome.joined};
  }

  // Keys whose work is running and still open to new callers (for metrics and tests).
  [[nodiscard]] std::size_t Flights() const { return untyped_.Flights(); }
  // Callers currently waiting on `key`'s work; 0 when no work runs for `key`.
  [[nodiscard]] std::size_t Callers(const std::string& key) const { return untyped_.Callers(key); }

 private:
  // The frame owns `work`, so a work function that is itself a capturing coroutine lambda
  // stays alive for as long as its coroutine runs.
  static Task<UntypedSingleFlight::SharedResult> Produce(Work work) {
    co_return std::make_shared<const Result>(co_await work());
  }

  static UntypedSingleFlight::Work Erase(Work work) {
    return [work = std::move(work)] { return Produce(work); };
  }

  UntypedSingleFlight untyped_;
};

}  // namespace cms::cache
