// File: cache/clock.hpp
//
// Clock: where time-based components (the response cache's TTL, the limiter's GCRA) read
// "now", so tests can move time by hand instead of sleeping. Only the monotonic clock is
// offered: expiry and rate decisions must not jump when the wall clock is set.
//
//   cache::SteadyClock clock;                        // production
//   cache::ManualClock clock;                        // tests
//   clock.Advance(std::chrono::seconds(301));        // every entry with a 300 s TTL is now stale
//
// Header-only on purpose: cms_limits reuses it (limits/clock.hpp) without linking cms_cache.
// It belongs in core/ once that folder can take it.
//
// Thread safety: every implementation here may be read from any thread at once;
// ManualClock may also be moved while others read it.
#pragma once

#include <atomic>
#include <chrono>

namespace cms::cache {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // The current time; never goes backwards.
  [[nodiscard]] virtual TimePoint Now() const = 0;
};

// The process's monotonic clock.
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// A stateless SteadyClock for components constructed without a clock. It holds no state,
// so sharing one instance is not a mutable global.
inline const Clock& DefaultClock() {
  static const SteadyClock clock;
  return clock;
}

// A clock that only moves when told to; for tests and simulations.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1)) : now_(start) {}

  [[nodiscard]] TimePoint Now() const override { return now_.load(std::memory_order_acquire); }

  // REQUIRES: step >= 0 (a steady clock never goes backwards).
  void Advance(std::chrono::steady_clock::duration step) {
    TimePoint current = now_.load(std::memory_order_relaxed);
    while (!now_.compare_exchange_weak(current, current + step, std::memory_order_acq_rel)) {
    }
  }

 private:
  std::atomic<TimePoint> now_;
};

}  // namespace cms::cache
