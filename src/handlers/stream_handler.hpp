// File: handlers/stream_handler.hpp
//
// POST /v1/completions/stream (CONTRACT.md section 6): the answer as Server-Sent Events.
// - An upstream refusal before the first byte is an ordinary HTTP error, not a 200 stream.
// - Each upstream text delta is written and flushed as it arrives: `data: {"text":...}`;
//   the end is `data: [DONE]`. A failure after the stream began is an `event: error` and a
//   closed connection, never a silent cut.
// - `: ping` comments flow while the upstream is silent for STREAM_HEARTBEAT_SECONDS.
// - The caller leaving cancels the upstream request at once.
// - Upstream events are buffered at most `stream_buffer_events` deep: a slow reader slows
//   the upstream read (backpressure) instead of growing memory.
// - A cache hit is replayed in chunks; a completed stream is stored for later requests.
#pragma once

#include <memory>
#include <optional>

#include "cache/canonical_key.hpp"
#include "core/completion.hpp"
#include "handlers/handler_context.hpp"
#include "http/exchange.hpp"
#include "limits/upstream_gate.hpp"
#include "upstream/provider.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::handlers {

class StreamHandler final : public http::Handler {
 public:
  explicit StreamHandler(const HandlerContext& context) : context_(context) {}
  Task<void> Handle(http::Exchange& exchange) override;

 private:
  // What a stream holds while it is relayed: its gate slot and the upstream answer.
  struct OpenedStream {
    limits::UpstreamGate::Permit permit;
    std::unique_ptr<upstream::CompletionStream> stream;
    upstream::Clock::time_point started;
  };

  // The phases of Handle(), each its own coroutine so that what only one phase needs (the
  // cache lookup, the gate wait, the first-byte timer) is not kept in a frame for the whole
  // life of the stream: with 10,000 streams open, every byte of a frame is 10 KB.

  // Replays a stored answer; false when there is none.
  Task<bool> ReplayCached(http::Exchange& exchange, const cache::CacheKey& key);
  // Takes a gate slot and opens the upstream answer; nullopt when that failed, after the
  // caller was answered (or left).
  Task<std::optional<OpenedStream>> Open(http::Exchange& exchange,
                                         const core::CompletionRequest& request);
  // Relays an open answer to the caller, logs it and stores a completed one.
  Task<void> Relay(http::Exchange& exchange, OpenedStream opened, const cache::CacheKey& key);
  // Answers an upstream failure (or our own shedding or first-byte timeout) that came before
  // the stream began, and logs it.
  Task<void> RefuseBeforeStart(http::Exchange& exchange, upstream::UpstreamError error);

  const HandlerContext& context_;
};

}  // namespace cms::handlers
