#include "simulator/sim_prompt_cache.hpp"

namespace cms::simulator {

PromptCacheTracker::PromptCacheTracker(std::size_t capacity) : capacity_(capacity) {
  positions_.reserve(capacity_);
}

PromptCacheUse PromptCacheTracker::Touch(std::uint64_t key) {
  const std::lock_guard lock(mutex_);
  if (const auto it = positions_.find(key); it != positions_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return PromptCacheUse::kRead;
  }
  if (positions_.size() >= capacity_) {
    positions_.erase(order_.back());
    order_.pop_back();
  }
  order_.push_front(key);
  positions_.emplace(key, order_.begin());
  return PromptCacheUse::kCreated;
}

void PromptCacheTracker::Clear() {
  const std::lock_guard lock(mutex_);
  order_.clear();
  positions_.clear();
}

std::size_t PromptCacheTracker::Size() const {
  const std::lock_guard lock(mutex_);
  return positions_.size();
}

}  // namespace cms::simulator
