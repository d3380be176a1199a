#include "cache/make_response_cache.hpp"

#include <stdexcept>

namespace cms::cache {

std::unique_ptr<ResponseCache> MakeResponseCache(const CacheSettings& settings,
                                                 const Clock& clock) {
  switch (settings.backend) {
    case CacheSettings::Backend::kMemory:
      return std::make_unique<MemoryCache>(settings.memory, clock);
  }
  // Only a value outside the enum gets here: a defect in whoever built the settings.
  throw std::invalid_argument("unknown cache backend");
}

Task<void> RunCacheMaintenance(ResponseCache& cache, std::chrono::milliseconds interval) {
  // This file is the only one that knows the concrete backends, so it may ask which one
  // it built.
  if (auto* memory = dynamic_cast<MemoryCache*>(&cache)) {
    co_await memory->RunSweeper(interval);
  }
}

}  // namespace cms::cache
