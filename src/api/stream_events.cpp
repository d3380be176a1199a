#include "api/stream_events.hpp"

#include <algorithm>

#include "api/utf8.hpp"
#include "core/json_escape.hpp"

namespace cms::api {
namespace {

constexpr std::string_view kTextEventPrefix = R"(data: {"text":)";
constexpr std::string_view kErrorEventPrefix =
    R"(event: error)"
    "\n"
    R"(data: {"type":"error","error":{"type":"upstream_error","message":)";
constexpr std::string_view kFrameEnd = "\n\n";

bool IsWhitespace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// The length of the next chunk of `rest` (see SplitForReplay). REQUIRES: !rest.empty().
std::size_t NextChunkLength(std::string_view rest, std::size_t max_chunk_bytes) {
  if (rest.size() <= max_chunk_bytes) return rest.size();
  // Prefer the end of a word, but not so early that chunks become tiny.
  for (std::size_t end = max_chunk_bytes; end > max_chunk_bytes / 2; --end) {
    if (IsWhitespace(rest[end - 1])) return end;
  }
  std::size_t end = max_chunk_bytes;
  while (end > 0 && !IsCodePointBoundary(rest, end)) --end;
  if (end > 0) return end;
  // The window is smaller than the code point at its start: take that code point whole.
  end = 1;
  while (end < rest.size() && !IsCodePointBoundary(rest, end)) ++end;
  return end;
}

}  // namespace

void AppendTextEvent(std::string& out, std::string_view text) {
  out += kTextEventPrefix;
  core::AppendJsonString(out, text);
  out.push_back('}');
  out += kFrameEnd;
}

std::string TextEvent(std::string_view text) {
  std::string frame;
  frame.reserve(kTextEventPrefix.size() + text.size() + text.size() / 16 + 8);
  AppendTextEvent(frame, text);
  return frame;
}

std::string_view DoneEvent() { return "data: [DONE]\n\n"; }

std::string ErrorEvent(std::string_view message) {
  std::string frame;
  frame.reserve(kErrorEventPrefix.size() + message.size() + 8);
  frame += kErrorEventPrefix;
  core::AppendJsonString(frame, message);
  frame += "}}";
  frame += kFrameEnd;
  return frame;
}

std::string_view HeartbeatComment() { return ": ping\n\n"; }

std::vector<std::string_view> SplitForReplay(std::string_view text, std::size_t max_chunk_bytes) {
  max_chunk_bytes = std::max<std::size_t>(max_chunk_bytes, 1);
  std::vector<std::string_view> chunks;
  // Replay chunks are a few hundred bytes; the cap only guards a pathological max.
  chunks.reserve(std::min<std::size_t>(text.size() / max_chunk_bytes + 1, 4096));
  while (!text.empty()) {
    const std::size_t length = NextChunkLength(text, max_chunk_bytes);
    chunks.push_back(text.substr(0, length));
    text.remove_prefix(length);
  }
  return chunks;
}

}  // namespace cms::api
