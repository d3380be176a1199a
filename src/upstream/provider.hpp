// File: upstream/provider.hpp
//
// Provider: the seam between our API and a model vendor. The embedded default is the
// Anthropic Messages API client (upstream/anthropic_client.hpp); tests and later vendors
// implement the same interface.
//
// Thread safety: one Provider is shared by every I/O thread; implementations synchronise
// internally. A CompletionStream belongs to the one coroutine that opened it.
//
// Cancellation: every coroutine here honours the Asio cancellation slot bound by its caller
// (a caller's disconnect, shutdown). On cancellation the upstream request is abandoned at once
// (its connection is closed, never returned to a pool) and the result is kCancelled.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/completion.hpp"
#include "core/net.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::upstream {

using Clock = std::chrono::steady_clock;

// What one call needs to know beyond the request itself.
struct CallOptions {
  Clock::time_point deadline;   // The whole upstream call ends by then (kTimeout).
  std::string_view request_id;  // For log lines; lives as long as the awaiting caller.
};

// One piece of a streamed answer.
struct StreamEvent {
  enum class Kind {
    kTextDelta,  // `text` holds the next piece of the answer.
    kEnd,        // The answer is complete: `completion` is set.
  };
  Kind kind = Kind::kTextDelta;
  std::string text;
  // kEnd only: model, full text, usage, stop_reason. Behind a pointer because a delta is
  // moved several times on its way to the caller and should carry one string, no more.
  std::unique_ptr<core::Completion> completion;
};

// An answer the upstream has begun to send (HTTP 200 received). Pull events with Next()
// until kEnd or an error; after either, Next() must not be called again.
class CompletionStream {
 public:
  virtual ~CompletionStream() = default;
  // The next text delta, the end, or why the stream broke (kUnavailable for a mid-stream
  // `error` event, a cut connection or a malformed event; kTimeout when no data arrives
  // within the idle deadline or the call's deadline passes).
  virtual Task<UpstreamResult<StreamEvent>> Next() = 0;
  // True when the next Next() completes from what was already received, without waiting
  // for the upstream: lets a relay take a burst of events in one step. False when unknown.
  [[nodiscard]] virtual bool HasReadyEvent() const { return false; }
  // The next text delta (or the error that broke the stream) when it is already received,
  // returned at once; std::nullopt when there is none yet or the stream is at its end:
  // call Next() then. Why: a relay takes a burst of a hundred deltas without suspending a
  // coroutine, and allocating one, per delta.
  virtual std::optional<UpstreamResult<StreamEvent>> TryNextReady() { return std::nullopt; }
};

class Provider {
 public:
  virtual ~Provider() = default;

  // One complete answer. REQUIRES: `request` outlives the awaited call (the caller
  // co_awaits at once).
  virtual Task<UpstreamResult<core::Completion>> Complete(const core::CompletionRequest& request,
                                                          CallOptions options) = 0;

  // Starts a streamed answer and returns once the upstream accepted it (HTTP 200 and the
  // response head read), so a refusal is an ordinary error result, before any byte went to
  // our caller. REQUIRES: as for Complete().
  virtual Task<UpstreamResult<std::unique_ptr<CompletionStream>>> OpenStream(
      const core::CompletionRequest& request, CallOptions options) = 0;

  // The base URL calls go to, for the startup log line (never includes credentials).
  virtual std::string Describe() const = 0;
};

}  // namespace cms::upstream
