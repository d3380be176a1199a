// File: api/stream_events.hpp
//
// The Server-Sent Events frames of POST /v1/completions/stream (CONTRACT.md section 6).
// Every frame is complete: it ends with the blank line that dispatches it, so frames can
// be concatenated and written in one go.
//
//   data: {"text":"<chunk>"}\n\n            one per upstream text delta
//   data: [DONE]\n\n                         the answer is complete
//   event: error\ndata: {...}\n\n            the upstream failed mid-stream (no [DONE])
//   : ping\n\n                               heartbeat comment, ignored by parsers
//
// Thread safety: pure functions; returned views refer to static storage or into the
// caller's text (SplitForReplay) and live as long as it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cms::api {

// `data: {"text":"<text, JSON-escaped>"}\n\n`. JSON escaping turns CR and LF into \r and
// \n, so the frame's data line can never be split by the text.
// REQUIRES: `text` is valid UTF-8 (upstream deltas are; SplitForReplay keeps it so).
[[nodiscard]] std::string TextEvent(std::string_view text);
// The same frame appended to `out`: a relay batching a burst of deltas builds one string.
void AppendTextEvent(std::string& out, std::string_view text);

// `data: [DONE]\n\n`: the last frame of a complete answer.
[[nodiscard]] std::string_view DoneEvent();

// `event: error\ndata: {"type":"error","error":{"type":"upstream_error","message":"..."}}\n\n`.
// `message` must be one of our fixed caller-facing texts (api/error_response.hpp), never
// upstream error text: it is sent to the caller as is (JSON-escaped).
[[nodiscard]] std::string ErrorEvent(std::string_view message);

// `: ping\n\n`: keeps proxies from timing out an idle stream.
[[nodiscard]] std::string_view HeartbeatComment();

// Splits a cached answer into chunks for replay as TextEvents. The chunks are views into
// `text`, in order, never empty, and concatenate to `text` exactly. Each is at most
// `max_chunk_bytes` long and ends on a code point boundary; where the window holds
// whitespace in its second half, the chunk ends right after the last such whitespace, so
// words are not cut. A single code point longer than `max_chunk_bytes` (possible only when
// it is below 4) forms a chunk of its own. An empty text gives no chunks; a
// `max_chunk_bytes` of 0 is treated as 1.
[[nodiscard]] std::vector<std::string_view> SplitForReplay(std::string_view text,
                                                           std::size_t max_chunk_bytes);

}  // namespace cms::api
