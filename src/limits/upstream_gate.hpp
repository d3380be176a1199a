// File: limits/upstream_gate.hpp
//
// UpstreamGate: load shedding in front of the upstream. At most `max_in_flight` upstream
// calls run at once (MAX_CONCURRENT_UPSTREAM); up to `max_waiting` more callers queue for
// a slot, each for at most `max_wait`. A caller past either bound is refused, and the
// handler answers 503 with Retry-After, so a burst degrades into quick refusals instead of
// a pile of requests that all time out.
//
//   limits::UpstreamGate gate({.max_in_flight = 32, .max_waiting = 64,
//                              .max_wait = std::chrono::milliseconds(2000)});
//   std::optional<limits::UpstreamGate::Permit> permit = co_await gate.Acquire();
//   if (!permit) -> 503, Retry-After
//   ... the upstream call ...                       // the slot is held while `permit` lives
//
// Contract:
// - A slot is taken at once while fewer than max_in_flight are held; otherwise the caller
//   queues. Queued callers get slots in arrival order (FIFO): a released slot goes straight
//   to the oldest waiter, never to a newcomer.
// - A caller is refused (std::nullopt, counted in Rejected()) when the queue already holds
//   max_waiting callers, or when max_wait passes before a slot is handed to it. With
//   max_waiting == 0 or max_wait == 0 nobody queues: a full gate refuses at once.
// - A waiter whose coroutine is cancelled (the caller left) leaves the queue at once and
//   Acquire throws boost::system::system_error(net::error::operation_aborted). If a slot
//   was handed to it at that same moment, the slot passes on to the next waiter (or is
//   freed): cancellation never leaks a slot. Acquire throws nothing else.
//
// Thread safety: every method may be called from any thread at once. Callers may run on
// different threads and executors: a waiter waits on a timer of its own executor and is
// woken by a handler posted to that executor. A Permit may be released (destroyed) on any
// thread, not only the one that acquired it.
//
// REQUIRES: each caller's executor is serial (an io_context run by one thread, as in
// core::WorkerPool, or a strand); the gate outlives every Permit and every pending
// Acquire; the callers' execution contexts outlive their pending Acquire calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "core/net.hpp"

namespace cms::limits {

struct UpstreamGateOptions {
  // Upstream calls allowed at once (MAX_CONCURRENT_UPSTREAM). REQUIRES: >= 1.
  std::size_t max_in_flight = 1;
  // Callers allowed to queue beyond max_in_flight; 0 disables queueing.
  std::size_t max_waiting = 0;
  // Longest a queued caller waits for a slot before it is refused; 0 disables queueing.
  std::chrono::milliseconds max_wait{0};
};

class UpstreamGate {
 public:
  // The right to make one upstream call. Move-only; destroying (or moving over) a Permit
  // releases its slot on the calling thread, handing it to the oldest waiter if any.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    ~Permit();
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;

   private:
    friend class UpstreamGate;
    explicit Permit(UpstreamGate& gate) : gate_(&gate) {}

    UpstreamGate* gate_;  // Null once moved from.
  };

  // REQUIRES: options.max_in_flight >= 1 (throws std::invalid_argument otherwise).
  explicit UpstreamGate(UpstreamGateOptions options);
  // REQUIRES: no Permit outstanding and no Acquire pending.
  ~UpstreamGate();
  UpstreamGate(const UpstreamGate&) = delete;
  UpstreamGate& operator=(const UpstreamGate&) = delete;

  // A permit, or std::nullopt when the gate is saturated (the queue is full, or max_wait
  // passed while queued). Completes without suspending when a slot is free or the caller
  // is refused at once. Throws only when the caller is cancelled while queued (see the
  // file comment).
  Task<std::optional<Permit>> Acquire();

  // A permit when a slot is free right now; std::nullopt otherwise, without queueing or
  // counting a refusal (call Acquire to wait). Why: a caller that races Acquire against
  // something else (the client leaving) pays for a second coroutine, started already
  // cancelled and ended by an exception, whenever Acquire does not wait, which is nearly
  // always.
  std::optional<Permit> TryAcquire();

  // Slots held now (<= max_in_flight).
  [[nodiscard]] std::size_t InFlight() const;
  // Callers queued now (<= max_waiting).
  [[nodiscard]] std::size_t Waiting() const;
  // Callers refused since construction, at once or after max_wait.
  [[nodiscard]] std::uint64_t Rejected() const;

 private:
  struct Waiter;
  class Queued;
  // How a caller enters: with a slot, refused, or (to be) queued.
  enum class Entry { kGranted, kRefused, kQueued };

  [[nodiscard]] bool QueueingEnabled() const;
  bool TryTakeSlotLocked();
  // Takes a free slot or refuses; kQueued means the caller must queue (call Enqueue).
  Entry TryEnter();
  Entry Enqueue(const std::shared_ptr<Waiter>& waiter);
  void Release();
  // Hands a freed slot to the oldest waiter (returned, to be notified once the lock is
  // dropped), or returns it to the pool.
  std::shared_ptr<Waiter> HandOnLocked();
  // Wakes a waiter on its own executor.
  static void Notify(std::shared_ptr<Waiter> waiter);

  // Constant after construction.
  const UpstreamGateOptions options_;

  // State below is protected by mutex_. Invariant: queue_ is empty unless every slot is
  // held, because a freed slot goes to the queue's head before it is counted free.
  mutable std::mutex mutex_;
  std::size_t in_flight_ = 0;
  std::deque<std::shared_ptr<Waiter>> queue_;
  std::uint64_t rejected_ = 0;
};

}  // namespace cms::limits
