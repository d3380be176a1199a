#include "limits/memory_limiter.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cms::limits {
namespace {

using TimePoint = Clock::TimePoint;
using Duration = TimePoint::duration;

// Finds std::string keys from a std::string_view without building a string per request.
struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};

Duration EmissionInterval(const MemoryLimiterOptions& options) {
  if (options.requests_per_minute == 0) {
    return Duration::zero();
  }
  return std::chrono::duration_cast<Duration>(std::chrono::minutes(1)) /
         options.requests_per_minute;
}

// n * interval, saturating instead of overflowing for absurd configurations.
Duration Times(std::uint64_t n, Duration interval) {
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max() / 4);
  const auto per = static_cast<std::uint64_t>(std::max<Duration::rep>(interval.count(), 1));
  return Duration(static_cast<Duration::rep>(std::min(n, limit / per) * per));
}

std::chrono::milliseconds RoundUp(Duration wait) {
  return std::chrono::ceil<std::chrono::milliseconds>(wait);
}

}  // namespace

struct MemoryLimiter::Shard {
  // Drops every key whose allowance is full again (TAT not after now).
  void Sweep(TimePoint now) {
    std::erase_if(tats, [now](const auto& entry) { return entry.second <= now; });
    sweep_at = std::max(kMinSweepEntries, 2 * tats.size());
  }

  std::mutex mutex;
  // Guarded by mutex.
  std::unordered_map<std::string, TimePoint, TransparentHash, std::equal_to<>> tats;
  std::size_t sweep_at = kMinSweepEntries;  // Sweep before a new key grows tats to this.
};

MemoryLimiter::MemoryLimiter(MemoryLimiterOptions options, const Clock& clock)
    : clock_(clock),
      unlimited_(options.requests_per_minute == 0),
      burst_(std::max<std::uint32_t>(options.burst, 1)),
      emission_interval_(EmissionInterval(options)),
      tolerance_(Times(burst_, emission_interval_)),
      shards_(std::make_unique<Shard[]>(kShardCount)) {}

MemoryLimiter::~MemoryLimiter() = default;

Task<AdmitResult> MemoryLimiter::Admit(std::string_view key_id, std::uint32_t cost) {
  co_return AdmitResult(Decide(key_id, cost));
}

MemoryLimiter::Shard& MemoryLimiter::ShardFor(std::string_view key_id) const {
  return shards_[std::hash<std::string_view>{}(key_id) % kShardCount];
}

LimitDecision MemoryLimiter::Decide(std::string_view key_id, std::uint32_t cost) {
  if (unlimited_ || cost == 0) {
    return LimitDecision{.allowed = true, .retry_after = std::chrono::milliseconds::zero()};
  }
  if (cost > burst_) {
    return LimitDecision{.allowed = false, .retry_after = RoundUp(tolerance_)};
  }
  const Duration charge = Times(cost, emission_interval_);
  Shard& shard = ShardFor(key_id);
  const TimePoint now = clock_.Now();
  const std::lock_guard lock(shard.mutex);
  const auto found = shard.tats.find(key_id);
  const TimePoint tat = found == shard.tats.end() ? now : std::max(found->second, now);
  const TimePoint new_tat = tat + charge;
  const TimePoint allow_at = new_tat - tolerance_;
  if (allow_at > now) {
    return LimitDecision{.allowed = false, .retry_after = RoundUp(allow_at - now)};
  }
  if (found != shard.tats.end()) {
    found->second = new_tat;
  } else {
    if (shard.tats.size() + 1 >= shard.sweep_at) {
      shard.Sweep(now);
    }
    shard.tats.emplace(std::string(key_id), new_tat);
  }
  return LimitDecision{.allowed = true, .retry_after = std::chrono::milliseconds::zero()};
}

std::size_t MemoryLimiter::TrackedKeys() const {
  std::size_t keys = 0;
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& shard = shards_[i];
    const std::lock_guard lock(shard.mutex);
    keys += shard.tats.size();
  }
  return keys;
}

}  // namespace cms::limits
