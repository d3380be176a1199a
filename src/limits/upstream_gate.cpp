#include "limits/upstream_gate.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace cms::limits {

// One queued caller. Its timer is created, awaited, cancelled and destroyed only on its
// own executor: whoever hands it a slot moves the record into a handler posted there, so
// even the last reference is dropped on the caller's thread.
struct UpstreamGate::Waiter {
  enum class State { kQueued, kGranted, kDone };

  Waiter(const Executor& caller_executor, std::chrono::milliseconds max_wait)
      : executor(caller_executor), timer(caller_executor, max_wait) {}

  const Executor executor;
  // Expires at the caller's max_wait; cancelled early when a slot is handed over.
  SteadyTimer timer;
  State state = State::kQueued;  // Guarded by the gate's mutex_.
};

// A caller's place in the queue. Leaving by any path (cancellation, an exception, the frame
// destroyed at shutdown) takes it off the queue, or passes on a slot handed to it that it
// never claimed.
class UpstreamGate::Queued {
 public:
  enum class Wake { kGranted, kCancelled, kExpired, kStillWaiting };

  Queued(UpstreamGate& gate, std::shared_ptr<Waiter> waiter)
      : gate_(gate), waiter_(std::move(waiter)) {}
  // NOLINTNEXTLINE(bugprone-exception-escape): only a failing mutex or bad_alloc throws here.
  ~Queued() { Settle(/*cancelled=*/true, /*expired=*/false); }
  Queued(const Queued&) = delete;
  Queued& operator=(const Queued&) = delete;
  Queued(Queued&&) = delete;
  Queued& operator=(Queued&&) = delete;

  // What a wake-up means, decided in one step under the gate's lock so a slot handed over
  // concurrently is either claimed or passed on, never lost. Leaves the queue on every
  // answer but kStillWaiting; kGranted means the caller now owns a slot.
  Wake Settle(bool cancelled, bool expired) {
    std::shared_ptr<Waiter> next;
    Wake wake = Wake::kStillWaiting;
    {
      const std::lock_guard lock(gate_.mutex_);
      if (waiter_->state == Waiter::State::kGranted) {
        if (cancelled) {
          next = gate_.HandOnLocked();
          wake = Wake::kCancelled;
        } else {
          wake = Wake::kGranted;
        }
        waiter_->state = Waiter::State::kDone;
      } else if (waiter_->state == Waiter::State::kQueued && (cancelled || expired)) {
        std::erase(gate_.queue_, waiter_);
        if (!cancelled) ++gate_.rejected_;
        wake = cancelled ? Wake::kCancelled : Wake::kExpired;
        waiter_->state = Waiter::State::kDone;
      }
    }
    if (next) Notify(std::move(next));
    return wake;
  }

 private:
  UpstreamGate& gate_;
  const std::shared_ptr<Waiter> waiter_;
};

UpstreamGate::Permit::Permit(Permit&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)) {}

// Release() throws only when the mutex fails or a wake-up cannot be allocated; ending the
// process then is the right answer for a noexcept release.
// NOLINTNEXTLINE(bugprone-exception-escape): see above.
UpstreamGate::Permit& UpstreamGate::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (gate_ != nullptr) gate_->Release();
    gate_ = std::exchange(other.gate_, nullptr);
  }
  return *this;
}

// NOLINTNEXTLINE(bugprone-exception-escape): as for operator= above.
UpstreamGate::Permit::~Permit() {
  if (gate_ != nullptr) gate_->Release();
}

UpstreamGate::UpstreamGate(UpstreamGateOptions options) : options_(options) {
  if (options_.max_in_flight == 0) {
    throw std::invalid_argument("UpstreamGate: max_in_flight must be at least 1");
  }
}

UpstreamGate::~UpstreamGate() = default;

std::size_t UpstreamGate::InFlight() const {
  const std::lock_guard lock(mutex_);
  return in_flight_;
}

std::size_t UpstreamGate::Waiting() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

std::uint64_t UpstreamGate::Rejected() const {
  const std::lock_guard lock(mutex_);
  return rejected_;
}

bool UpstreamGate::QueueingEnabled() const {
  return options_.max_waiting > 0 && options_.max_wait > std::chrono::milliseconds::zero();
}

bool UpstreamGate::TryTakeSlotLocked() {
  if (in_flight_ >= options_.max_in_flight) return false;
  ++in_flight_;
  return true;
}

std::optional<UpstreamGate::Permit> UpstreamGate::TryAcquire() {
  const std::lock_guard lock(mutex_);
  if (!TryTakeSlotLocked()) return std::nullopt;
  return Permit(*this);
}

UpstreamGate::Entry UpstreamGate::TryEnter() {
  const std::lock_guard lock(mutex_);
  if (TryTakeSlotLocked()) return Entry::kGranted;
  if (!QueueingEnabled() || queue_.size() >= options_.max_waiting) {
    ++rejected_;
    return Entry::kRefused;
  }
  return Entry::kQueued;
}

UpstreamGate::Entry UpstreamGate::Enqueue(const std::shared_ptr<Waiter>& waiter) {
  const std::lock_guard lock(mutex_);
  // Slots may have been freed, or the queue filled, since TryEnter.
  if (TryTakeSlotLocked()) return Entry::kGranted;
  if (queue_.size() >= options_.max_waiting) {
    ++rejected_;
    return Entry::kRefused;
  }
  queue_.push_back(waiter);
  return Entry::kQueued;
}

std::shared_ptr<UpstreamGate::Waiter> UpstreamGate::HandOnLocked() {
  if (queue_.empty()) {
    --in_flight_;
    return nullptr;
  }
  std::shared_ptr<Waiter> next = std::move(queue_.front());
  queue_.pop_front();
  next->state = Waiter::State::kGranted;
  return next;
}

void UpstreamGate::Release() {
  std::shared_ptr<Waiter> next;
  {
    const std::lock_guard lock(mutex_);
    next = HandOnLocked();
  }
  if (next) Notify(std::move(next));
}

void UpstreamGate::Notify(std::shared_ptr<Waiter> waiter) {
  const Executor executor = waiter->executor;
  net::post(executor, [waiter = std::move(waiter)] { waiter->timer.cancel(); });
}

Task<std::optional<UpstreamGate::Permit>> UpstreamGate::Acquire() {
  switch (TryEnter()) {
    case Entry::kGranted:
      co_return Permit(*this);
    case Entry::kRefused:
      co_return std::nullopt;
    case Entry::kQueued:
      break;
  }
  const auto waiter =
      std::make_shared<Waiter>(co_await net::this_coro::executor, options_.max_wait);
  switch (Enqueue(waiter)) {
    case Entry::kGranted:
      co_return Permit(*this);
    case Entry::kRefused:
      co_return std::nullopt;
    case Entry::kQueued:
      break;
  }
  Queued queued{*this, waiter};
  for (;;) {
    // A hand-over is posted to this executor, so it cannot run before this wait has begun:
    // no wake-up is lost.
    auto [ec] = co_await waiter->timer.async_wait(kAsTuple);
    const net::cancellation_state state = co_await net::this_coro::cancellation_state;
    const bool cancelled = state.cancelled() != net::cancellation_type::none;
    switch (queued.Settle(cancelled, /*expired=*/!ec)) {
      case Queued::Wake::kGranted:
        co_return Permit(*this);
      case Queued::Wake::kExpired:
        co_return std::nullopt;
      case Queued::Wake::kCancelled:
        throw boost::system::system_error(net::error::operation_aborted, "UpstreamGate::Acquire");
      case Queued::Wake::kStillWaiting:
        break;
    }
  }
}

}  // namespace cms::limits
