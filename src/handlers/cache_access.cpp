#include "handlers/cache_access.hpp"

namespace cms::handlers {

namespace {
// Enough of the key to correlate log lines; the full key adds nothing for a reader.
std::string_view KeyPrefix(const cache::CacheKey& key) {
  return std::string_view(key).substr(0, 16);
}
}  // namespace

Task<std::optional<cache::CachedCompletion>> LookupCached(const HandlerContext& context,
                                                          const cache::CacheKey& key,
                                                          std::string_view request_id) {
  if (!context.settings.cache_enabled) co_return std::nullopt;
  auto found = co_await context.cache.Lookup(key);
  if (!found) {
    context.logger.Warning("cache_error", request_id, {{"error", found.error().log_message}});
  } else if (found->has_value()) {
    context.logger.Info("cache_hit", request_id, {{"cache_key", KeyPrefix(key)}});
    co_return std::move(**found);
  }
  context.logger.Info("cache_miss", request_id, {{"cache_key", KeyPrefix(key)}});
  co_return std::nullopt;
}

Task<void> StoreCompleted(const HandlerContext& context, const cache::CacheKey& key,
                          cache::CachedCompletion completion, std::string_view request_id) {
  if (!context.settings.cache_enabled) co_return;
  auto stored = co_await context.cache.Store(key, std::move(completion));
  if (!stored) {
    context.logger.Warning("cache_error", request_id, {{"error", stored.error().log_message}});
  }
}

}  // namespace cms::handlers
