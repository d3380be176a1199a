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

#include "handlers/handler_context.hpp"
#include "http/exchange.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::handlers {

class StreamHandler final : public http::Handler {
 public:
  explicit StreamHandler(const HandlerContext& context) : context_(context) {}
  Task<void> Handle(http::Exchange& exchange) override;

 private:
  // Answers an upstream failure (or our own shedding or first-byte timeout) that came before
  // the stream began, and logs it.
  Task<void> RefuseBeforeStart(http::Exchange& exchange, upstream::UpstreamError error);

  const HandlerContext& context_;
};

}  // namespace cms::handlers
