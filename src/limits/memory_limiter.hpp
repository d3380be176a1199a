// File: limits/memory_limiter.hpp
//
// MemoryLimiter: the embedded Limiter (limits/limiter.hpp), a per-key_id GCRA (generic cell
// rate algorithm, the "virtual scheduling" form of a token bucket) held in process. Each
// replica limits on its own: with N replicas a caller gets up to N times the rate; use the
// Redis limiter when that matters.
//
//   limits::MemoryLimiter limiter({.requests_per_minute = 60, .burst = 10});
//   // 10 requests at once pass, the 11th waits 1 s; then one per second.
//
// GCRA keeps one number per key, its theoretical arrival time (TAT): the time at which the
// key's allowance would be full again. With emission interval T = 1 min / rpm, a request
// of cost c is allowed when max(TAT, now) + c*T - burst*T <= now, and then moves the TAT to
// max(TAT, now) + c*T. So `burst` requests pass back to back and the rate refills at rpm.
//
// Memory: a key whose TAT is in the past has a full allowance, exactly like a key never
// seen, so it is forgotten without changing any decision. Each shard sweeps such keys when
// a new key would grow it past twice its size after the last sweep (at least
// kMinSweepEntries), so memory stays proportional to the keys active within the last
// burst*T, at amortised O(1) per request.
//
// Thread safety: every method may be called from any thread at once; keys are spread over
// kShardCount independently locked shards. Admit never suspends and never fails.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/net.hpp"
#include "limits/clock.hpp"
#include "limits/limiter.hpp"

namespace cms::limits {

struct MemoryLimiterOptions {
  // Sustained rate per key_id. 0 means unlimited: every request is allowed.
  std::uint32_t requests_per_minute = 0;
  // Most requests a key_id may make back to back after being idle. 0 is treated as 1.
  std::uint32_t burst = 1;
};

class MemoryLimiter final : public Limiter {
 public:
  static constexpr std::size_t kShardCount = 16;
  static constexpr std::size_t kMinSweepEntries = 1024;  // Per shard.

  // REQUIRES: `clock` outlives the limiter.
  explicit MemoryLimiter(MemoryLimiterOptions options, const Clock& clock = DefaultClock());
  ~MemoryLimiter() override;
  MemoryLimiter(const MemoryLimiter&) = delete;
  MemoryLimiter& operator=(const MemoryLimiter&) = delete;

  // Limiter. A cost above burst is never allowed (its retry_after is the time a full
  // allowance takes to refill); cost 0 is always allowed.
  Task<AdmitResult> Admit(std::string_view key_id, std::uint32_t cost = 1) override;

  // Keys currently remembered, over all shards (for metrics and tests).
  [[nodiscard]] std::size_t TrackedKeys() const;

 private:
  struct Shard;
  using Duration = Clock::TimePoint::duration;

  [[nodiscard]] LimitDecision Decide(std::string_view key_id, std::uint32_t cost);
  [[nodiscard]] Shard& ShardFor(std::string_view key_id) const;

  // Constant after construction.
  const Clock& clock_;
  const bool unlimited_;
  const std::uint32_t burst_;
  const Duration emission_interval_;  // T: the time one unit of allowance takes to refill.
  const Duration tolerance_;          // burst * T: how far ahead of now a TAT may run.
  // Each shard synchronises itself.
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace cms::limits
