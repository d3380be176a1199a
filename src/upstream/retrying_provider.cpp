#include "upstream/retrying_provider.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "upstream/cancelled_as_result.hpp"

namespace cms::upstream {
namespace {

using std::chrono::milliseconds;

RetryPolicy Validated(RetryPolicy policy) {
  if (policy.max_retries < 0) throw std::invalid_argument("retry policy: max_retries < 0");
  if (policy.base_delay.count() < 0) throw std::invalid_argument("retry policy: base_delay < 0");
  if (policy.max_delay.count() < 0) throw std::invalid_argument("retry policy: max_delay < 0");
  if (policy.max_server_delay.count() < 0) {
    throw std::invalid_argument("retry policy: max_server_delay < 0");
  }
  return policy;
}

UpstreamError Cancelled() {
  return MakeUpstreamError(UpstreamErrorKind::kCancelled,
                           "upstream call cancelled between retries");
}

}  // namespace

bool IsRetryable(const UpstreamError& error) {
  switch (error.kind) {
    case UpstreamErrorKind::kRateLimited:
      return true;
    case UpstreamErrorKind::kUnavailable:
      switch (error.status) {
        case 0:  // No HTTP answer at all: refused, reset, cut before the response.
        case 500:
        case 502:
        case 503:
        case 504:
        case 529:
          return true;
        default:  // 200 is a malformed answer: the same request would buy the same answer.
          return false;
      }
    case UpstreamErrorKind::kBadCredentials:
    case UpstreamErrorKind::kRejected:
    case UpstreamErrorKind::kTimeout:
    case UpstreamErrorKind::kCancelled:
    case UpstreamErrorKind::kInternal:
    // kOverloaded is our own load shedding: waiting here would hold the slot of a request
    // we already decided not to serve; the caller gets 503 with Retry-After instead.
    case UpstreamErrorKind::kOverloaded:
      return false;
  }
  return false;
}

RetryingProvider::RetryingProvider(Provider& inner, RetryPolicy policy,
                                   observability::Logger& logger)
    : inner_(inner),
      policy_(Validated(policy)),
      logger_(logger),
      owned_random_(std::make_unique<SystemRandomSource>()),
      random_(*owned_random_) {}

RetryingProvider::RetryingProvider(Provider& inner, RetryPolicy policy,
                                   observability::Logger& logger, RandomSource& random)
    : inner_(inner), policy_(Validated(policy)), logger_(logger), random_(random) {}

Task<UpstreamResult<core::Completion>> RetryingProvider::Complete(
    const core::CompletionRequest& request, CallOptions options) {
  return WithRetries<core::Completion>(&Provider::Complete, request, options);
}

Task<UpstreamResult<std::unique_ptr<CompletionStream>>> RetryingProvider::OpenStream(
    const core::CompletionRequest& request, CallOptions options) {
  return WithRetries<std::unique_ptr<CompletionStream>>(&Provider::OpenStream, request, options);
}

std::string RetryingProvider::Describe() const { return inner_.Describe(); }

milliseconds RetryingProvider::DelayBeforeRetry(int retry, const UpstreamError& error) {
  if (error.retry_after) {
    const std::optional<milliseconds> advised =
        ParseRetryAfter(*error.retry_after, std::chrono::system_clock::now());
    if (advised) return std::min(*advised, policy_.max_server_delay);
  }
  return FullJitterDelay(retry, policy_.base_delay, policy_.max_delay, random_.Uniform01());
}

template <class T>
Task<UpstreamResult<T>> RetryingProvider::WithRetries(Attempt<T> attempt,
                                                      const core::CompletionRequest& request,
                                                      CallOptions options) {
  // The retries run in this one coroutine, and so does CancelledAsResult's catch (see
  // cancelled_as_result.hpp): callers of a Provider get a value, not an exception.
  try {
    for (int retry = 0;; ++retry) {
      UpstreamResult<T> result = co_await (inner_.*attempt)(request, options);
      if (result || !IsRetryable(result.error()) || retry >= policy_.max_retries) {
        co_return std::move(result);
      }
      const milliseconds delay = DelayBeforeRetry(retry, result.error());
      // Waiting only to be cut off by the deadline would turn a clear upstream error into a
      // timeout, and keep the caller waiting for nothing.
      if (Clock::now() + delay > options.deadline) co_return std::move(result);
      // Checked before waiting: an inner call cut by the caller may report the cut as a
      // retryable failure (a reset connection). Reading the state never throws.
      const net::cancellation_state state = co_await net::this_coro::cancellation_state;
      if (state.cancelled() != net::cancellation_type::none) co_return Cancelled();
      LogRetry(retry + 1, result.error(), delay, options.request_id);
      // On the coroutine's own cancellation slot: the caller leaving ends the wait at once.
      SteadyTimer timer(co_await net::this_coro::executor, delay);
      const auto [ec] = co_await timer.async_wait(kAsTuple);
      if (ec) co_return Cancelled();
    }
  } catch (const boost::system::system_error& error) {
    RethrowUnlessCancelled(error);
  }
  co_return MakeUpstreamError(UpstreamErrorKind::kCancelled,
                              "upstream call cancelled between retries");
}

void RetryingProvider::LogRetry(int attempt, const UpstreamError& error, milliseconds delay,
                                std::string_view request_id) {
  logger_.Warning("upstream_retry", request_id,
                  {{"attempt", attempt},
                   {"cause", UpstreamErrorKindName(error.kind)},
                   {"status", error.status},
                   {"error_type", error.error_type},
                   {"delay_ms", delay.count()}});
}

}  // namespace cms::upstream
