#include "handlers/upstream_call.hpp"

#include <boost/system/system_error.hpp>

#include "handlers/cache_access.hpp"
#include "handlers/upstream_log.hpp"

namespace cms::handlers {

Task<upstream::UpstreamResult<core::Completion>> CallUpstreamOnce(
    const HandlerContext& context, std::shared_ptr<const core::CompletionRequest> request,
    cache::CacheKey key, std::string request_id, upstream::Clock::time_point deadline) {
  try {
    // A free slot is taken without Acquire's coroutine, as it nearly always is.
    std::optional<limits::UpstreamGate::Permit> permit = context.upstream_gate.TryAcquire();
    if (!permit) permit = co_await context.upstream_gate.Acquire();
    if (!permit) {
      auto shed = upstream::MakeUpstreamError(
          upstream::UpstreamErrorKind::kOverloaded,
          "MAX_CONCURRENT_UPSTREAM reached and the wait queue is full or timed out");
      LogAnthropicError(context.logger, request_id, shed);
      co_return shed;
    }
    LogAnthropicRequest(context.logger, request_id, *request, /*stream=*/false);
    const auto started = Clock::now();
    auto result = co_await context.provider.Complete(*request, {deadline, request_id});
    if (!result) {
      LogAnthropicError(context.logger, request_id, result.error());
      co_return result;
    }
    LogAnthropicResponse(context.logger, request_id, *result, MillisecondsSince(started));
    co_await StoreCompleted(context, key, std::make_shared<const core::Completion>(*result),
                            request_id);
    co_return result;
  } catch (const boost::system::system_error& e) {
    // Every caller left and the flight was cancelled while it waited for a slot.
    co_return upstream::MakeUpstreamError(upstream::UpstreamErrorKind::kCancelled, e.what());
  }
}

}  // namespace cms::handlers
