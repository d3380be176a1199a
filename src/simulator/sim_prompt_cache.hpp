// File: simulator/sim_prompt_cache.hpp
//
// PromptCacheTracker: remembers which cacheable system prefixes the simulator has "cached",
// so usage reports a cache write the first time a prefix is seen and cache reads after
// (docs/anthropic-api.md §6). Keys are 64-bit hashes of (model, prefix); bounded to
// `capacity` entries, the least recently used forgotten first (a forgotten prefix is
// written again, as an expired real cache entry would be). Entries do not expire by time.
//
// Thread safety: every method may be called from any thread at once (one internal mutex,
// held for a hash-map operation only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>

namespace cms::simulator {

enum class PromptCacheUse {
  kNone,     // Nothing cacheable in the request.
  kCreated,  // First sight: usage reports cache_creation_input_tokens.
  kRead,     // Seen before: usage reports cache_read_input_tokens.
};

class PromptCacheTracker {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;

  // REQUIRES: capacity >= 1.
  explicit PromptCacheTracker(std::size_t capacity = kDefaultCapacity);
  PromptCacheTracker(const PromptCacheTracker&) = delete;
  PromptCacheTracker& operator=(const PromptCacheTracker&) = delete;

  // kCreated when `key` was not remembered (it is now), kRead when it was (it becomes the
  // most recently used). Never kNone.
  [[nodiscard]] PromptCacheUse Touch(std::uint64_t key);

  // Forgets every key.
  void Clear();

  [[nodiscard]] std::size_t Size() const;

 private:
  // Constant after construction.
  const std::size_t capacity_;

  // Guarded by mutex_. `order_` is most recent first; `positions_` indexes it.
  mutable std::mutex mutex_;
  std::list<std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> positions_;
};

}  // namespace cms::simulator
