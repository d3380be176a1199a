// File: upstream/retrying_provider.hpp
//
// RetryingProvider: a Provider that forwards every call to another Provider and retries the
// failures worth retrying, so the retry policy lives in one place whatever the vendor
// (leveldb's EnvWrapper pattern):
//
//   AnthropicClient client(options, workers, logger);
//   RetryingProvider provider(client, RetryPolicy{.max_retries = 2}, logger);
//   UpstreamResult<core::Completion> answer = co_await provider.Complete(request, call);
//
// What is retried: only calls that have sent nothing to our caller yet, so a retry is never
// visible except as latency: Complete() and OpenStream() (which returns before the first
// event). A CompletionStream is passed through untouched: once events flow, a failure is
// final (the caller may already have relayed part of the answer).
//
// Which failures (IsRetryable): kRateLimited (429), and kUnavailable with status 500, 502,
// 503, 504, 529 or 0 (no HTTP answer: connection refused, reset or cut). Not retried:
// kUnavailable with status 200 (a malformed answer: asking again pays again for the same bad
// answer) or any other status, kRejected, kBadCredentials, kTimeout, kCancelled, kInternal,
// kOverloaded (our own load shedding: retrying would defeat it).
//
// When: at most RetryPolicy::max_retries retries after the first attempt. Before retry n
// (0-based) the call waits for the upstream's Retry-After (ParseRetryAfter; capped at
// max_server_delay), else FullJitterDelay(n, base_delay, max_delay). A wait that would end
// after CallOptions::deadline is not begun: the last error is returned at once.
// (AnthropicClient reports a `retry-after-ms` header only when `retry-after` is absent, as
// whole seconds rounded up, through UpstreamError::retry_after; it is honoured that way.)
//
// Failures: the last attempt's error, unchanged. kCancelled (status 0) when the caller's
// cancellation arrives during a wait or before a retry; no further inner call is made then.
//
// Cancellation: the wait is a steady_timer on the awaiting coroutine's cancellation slot, so
// the caller leaving (terminal cancellation from `||`, a bound cancellation_signal) ends it
// at once.
//
// Logging: each retry writes WARNING `upstream_retry` with attempt (1-based number of the
// retry), cause (UpstreamErrorKindName), status, error_type and delay_ms; never request text
// nor the upstream's message.
//
// Thread safety: as the inner Provider: Complete() and OpenStream() may run on every I/O
// thread at once (the wrapper has no mutable state; the RandomSource synchronises itself).
// Lifetime: `inner`, `logger` and an injected `random` must outlive the wrapper and every
// call in flight.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/completion.hpp"
#include "core/net.hpp"
#include "observability/logger.hpp"
#include "upstream/backoff.hpp"
#include "upstream/provider.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::upstream {

struct RetryPolicy {
  // Retries after the first attempt (UPSTREAM_MAX_RETRIES). 0 disables retrying; 2 makes at
  // most 3 attempts, as the official SDKs do.
  int max_retries = 2;
  // Backoff ceiling before the first retry (UPSTREAM_RETRY_BASE_DELAY_MS); it doubles with
  // every retry. The actual wait is uniform below it (full jitter).
  std::chrono::milliseconds base_delay{500};
  // The ceiling stops doubling here.
  std::chrono::milliseconds max_delay{8000};
  // Longest wait a Retry-After may impose; longer advice is cut to this (and the call's
  // deadline still applies).
  std::chrono::milliseconds max_server_delay{60000};
};

// True for the failures a retry may cure (see the file comment).
[[nodiscard]] bool IsRetryable(const UpstreamError& error);

class RetryingProvider final : public Provider {
 public:
  // Jitter from an owned SystemRandomSource. Throws std::invalid_argument when a field of
  // `policy` is negative.
  RetryingProvider(Provider& inner, RetryPolicy policy, observability::Logger& logger);
  // Jitter from `random` (tests inject a fixed draw). Throws as above.
  RetryingProvider(Provider& inner, RetryPolicy policy, observability::Logger& logger,
                   RandomSource& random);
  RetryingProvider(const RetryingProvider&) = delete;
  RetryingProvider& operator=(const RetryingProvider&) = delete;

  // Provider
  Task<UpstreamResult<core::Completion>> Complete(const core::CompletionRequest& request,
                                                  CallOptions options) override;
  Task<UpstreamResult<std::unique_ptr<CompletionStream>>> OpenStream(
      const core::CompletionRequest& request, CallOptions options) override;
  // The inner provider's description.
  std::string Describe() const override;

  // The wait before retry `retry` (0-based) after `error`: Retry-After capped at
  // max_server_delay when the error carries a valid one, else full-jitter backoff (one draw
  // from the RandomSource).
  [[nodiscard]] std::chrono::milliseconds DelayBeforeRetry(int retry, const UpstreamError& error);

 private:
  template <class T>
  using Attempt = Task<UpstreamResult<T>> (Provider::*)(const core::CompletionRequest&,
                                                        CallOptions);

  // Runs `attempt` on inner_ until it succeeds, fails for good, or retries run out.
  template <class T>
  Task<UpstreamResult<T>> WithRetries(Attempt<T> attempt, const core::CompletionRequest& request,
                                      CallOptions options);

  void LogRetry(int attempt, const UpstreamError& error, std::chrono::milliseconds delay,
                std::string_view request_id);

  // Constant after construction.
  Provider& inner_;
  const RetryPolicy policy_;
  observability::Logger& logger_;
  const std::unique_ptr<RandomSource> owned_random_;  // Null when one was injected.
  RandomSource& random_;
};

}  // namespace cms::upstream
