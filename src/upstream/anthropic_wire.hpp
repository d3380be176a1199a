// File: upstream/anthropic_wire.hpp
//
// The Anthropic Messages API wire format (docs/anthropic-api.md sections 1-4) as pure
// functions: the request body we send, the answers we parse (a whole Message, an error
// body, a stream of SSE events). No I/O, no state beyond one stream's accumulator, so every
// rule here is unit-tested without a socket.
//
// Failure policy: an answer we cannot understand is the upstream's fault, reported as
// kUnavailable (CONTRACT.md section 7: "malformed answer" -> 502) with the reason in
// log_message. Upstream message text only ever lands in log_message.
//
// Thread safety: the free functions are reentrant; a StreamAccumulator belongs to one stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "core/completion.hpp"
#include "upstream/sse_parser.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::upstream {

// The JSON body of POST /v1/messages: model, max_tokens, messages [{role, content}], system
// (a plain string, or with request.cache_system one text block carrying
// `"cache_control":{"type":"ephemeral"}`), temperature only when present, and
// `"stream":true` when `stream` is set. Written straight into one string sized up front, so
// a long system prompt or message is copied exactly once.
// REQUIRES: request.temperature, when present, is finite (api/ validates 0.0-1.0); a
// non-finite value throws std::invalid_argument.
[[nodiscard]] std::string BuildMessagesBody(const core::CompletionRequest& request, bool stream);

// A 200 answer to a non-streaming call: every `text` block concatenated in order (other
// blocks such as `tool_use` or `thinking` are skipped), model, stop_reason (empty when null
// or absent) and usage (each counter optional, zero when absent or null).
// Errors: kUnavailable when the body is not JSON, not an object, has no `content` array, or
// a field has the wrong type.
// Read in one pass without a DOM (message_response_parser.hpp), with a DOM's results: at
// most 32 levels of nesting, and the last occurrence of a repeated key wins.
[[nodiscard]] UpstreamResult<core::Completion> ParseMessageResponse(std::string_view body);

// The error for a non-200 answer: kind from KindForStatus(status), `error_type` from
// `{"error":{"type":...}}` when the body is that JSON envelope (empty otherwise: a proxy's
// HTML page, Cloudflare's 413), `retry_after` as given, and the upstream's message (or a
// bounded snippet of a non-JSON body) in log_message.
[[nodiscard]] UpstreamError ParseErrorResponse(int status, std::string_view body,
                                               std::optional<std::string> retry_after);

// The Retry-After value to report: `retry_after` verbatim when the upstream sent it, else
// `retry_after_ms` (milliseconds, possibly fractional) rounded up to whole seconds, else
// nullopt (also when `retry_after_ms` is not a non-negative number).
[[nodiscard]] std::optional<std::string> RetryAfterFromHeaders(
    std::optional<std::string_view> retry_after, std::optional<std::string_view> retry_after_ms);

// Accumulates one streamed Message from its SSE events (docs/anthropic-api.md section 3):
//   - `message_start` (first, exactly once): model and usage;
//   - `content_block_start` / `content_block_delta` of text blocks: the answer's text;
//   - `message_delta`: stop_reason, and usage counters overwritten field by field (they
//     are cumulative totals, never increments);
//   - `message_stop`: Done();
//   - `ping`, unnamed and unknown events: ignored.
// Dispatch is on the SSE `event:` name, as the official SDKs do.
class StreamAccumulator {
 public:
  // Applies one event and returns the text it adds to the answer (empty when none).
  // Errors (the stream cannot go on): kUnavailable for an `error` event (its error.type in
  // error_type, its message in log_message), malformed JSON, a field of the wrong type, or
  // an event out of order (anything before `message_start`, a second `message_start`).
  // REQUIRES: !Done().
  [[nodiscard]] UpstreamResult<std::string> Apply(SseEventView event);

  // True once `message_stop` arrived: the answer is complete.
  [[nodiscard]] bool Done() const { return done_; }

  // What is known so far: the final answer once Done().
  [[nodiscard]] const core::Completion& completion() const { return completion_; }
  // Moves the answer out. REQUIRES: called once, after which completion() is unspecified.
  [[nodiscard]] core::Completion TakeCompletion() { return std::move(completion_); }

 private:
  // The exact-shape fast paths (detail:: below): the text the event adds, or nullopt when
  // it must be parsed in full. REQUIRES: started_.
  std::optional<std::string_view> ApplyInPlace(std::string_view name, std::string_view data);
  UpstreamResult<std::string> ApplyMessageStart(const boost::json::object& data);
  UpstreamResult<std::string> ApplyMessageDelta(const boost::json::object& data);

  core::Completion completion_;
  bool started_ = false;
  bool done_ = false;
};

namespace detail {

// The fast path of StreamAccumulator::Apply, exposed for its tests. The text of a
// `content_block_delta` event whose data is exactly
//   {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"T"}}
// with no whitespace, N a JSON non-negative integer of at most 9 digits, and T free of `"`,
// `\`, control characters and invalid UTF-8: T itself, which is then byte for byte what a
// JSON parser reads there. nullopt for any other data, which Apply parses in full.
[[nodiscard]] std::optional<std::string_view> PlainTextDelta(std::string_view data);

// The second fast path of StreamAccumulator::Apply, exposed for its tests: true when the
// event `name` has exactly the data Anthropic sends for it when it adds no text, with no
// whitespace and N as above:
//   content_block_start
//   {"type":"content_block_start","index":N,"content_block":{"type":"text","text":""}}
//   content_block_stop   {"type":"content_block_stop","index":N}
//   message_stop         {"type":"message_stop"}
// False for anything else, which Apply parses in full.
[[nodiscard]] bool IsPlainEmptyEvent(std::string_view name, std::string_view data);

}  // namespace detail

}  // namespace cms::upstream
