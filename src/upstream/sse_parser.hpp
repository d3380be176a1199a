// File: upstream/sse_parser.hpp
//
// SseParser: an incremental decoder of a `text/event-stream` body (the WHATWG grammar, as the
// official Anthropic SDK decoders accept it). Feed it bytes exactly as they come off the
// socket, split anywhere (inside a line, a `\r\n` pair or a UTF-8 sequence), and pull the
// complete events:
//
//   SseParser parser;
//   parser.Feed(bytes);
//   while (std::optional<SseEvent> event = parser.Next()) Handle(*event);
//   if (parser.Overflowed()) Fail();
//
// or, without copying, as views valid until the next Feed():
//
//   SseEventView event;
//   while (parser.Next(event)) Handle(event);
//
// Grammar handled: lines end in `\n`, `\r\n` or a lone `\r`; a blank line ends an event; a
// line starting with `:` is a comment; `field:value` strips one optional space after the
// colon; several `data:` lines are joined with `\n`; `id`, `retry` and unknown fields are
// ignored. An event with neither an `event:` nor a `data:` line is not reported.
//
// Bounds: an event whose buffered size (name + data + the line being read) exceeds
// `max_event_bytes` puts the parser in the overflowed state: it reports the events completed
// before, then nothing more, and ignores further input. Buffering never grows past the bound
// plus the size of one Feed() call.
//
// Cost: linear in the input. Complete lines are decoded straight from the fed bytes; only an
// unterminated tail is copied, to be completed by a later Feed(). Complete events wait back to
// back in one buffer, which the next Feed() empties (keeping its capacity) once every event
// was pulled, so a warm stream allocates nothing per event, however many events one Feed()
// completes. (Events each in their own strings cost two allocations per event of a burst:
// the name `content_block_delta` is longer than the short-string buffer.)
//
// Thread safety: none; one parser belongs to one stream. The parser copies what it keeps, so
// the bytes passed to Feed() need not outlive the call.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::upstream {

struct SseEvent {
  std::string event;  // The `event:` name; empty when the event had none.
  std::string data;   // The `data:` lines joined with `\n`.

  bool operator==(const SseEvent&) const = default;
};

// An event as views: into the parser (Next(SseEventView&)), or into an SseEvent.
struct SseEventView {
  SseEventView() = default;
  SseEventView(std::string_view event_in, std::string_view data_in)
      : event(event_in), data(data_in) {}
  // Implicit: whatever takes a view takes an SseEvent, which must outlive the view.
  SseEventView(const SseEvent& owned)  // NOLINT(google-explicit-constructor)
      : event(owned.event), data(owned.data) {}

  std::string_view event;
  std::string_view data;
};

class SseParser {
 public:
  static constexpr std::size_t kDefaultMaxEventBytes = 1024 * 1024;

  explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes);

  // Consumes the next bytes of the stream. Ignored once Overflowed().
  void Feed(std::string_view bytes);

  // The oldest complete event not yet pulled, or nullopt when none is complete yet.
  [[nodiscard]] std::optional<SseEvent> Next();

  // The same event as Next(), as views: true and `event` views the oldest complete event not
  // yet pulled, or false and `event` is unchanged when none is complete. The views are valid
  // until the next Feed().
  [[nodiscard]] bool Next(SseEventView& event);

  // True when Next() would return an event.
  [[nodiscard]] bool HasEvent() const { return ready_head_ != ready_.size(); }

  // True once an event exceeded the size bound; the stream cannot be decoded further.
  [[nodiscard]] bool Overflowed() const { return overflowed_; }

 private:
  void AppendToLine(std::string_view piece);
  void ProcessLine(std::string_view line);
  void DispatchEvent();
  // Forgets the events already pulled (the views handed out end here).
  void DropPulled();
  void Overflow();
  [[nodiscard]] bool OverBound(std::size_t more_bytes) const;

  // Constant after construction.
  const std::size_t max_event_bytes_;

  std::string line_;           // The current line, when a Feed() ended inside it.
  bool skip_next_lf_ = false;  // The last line ended in `\r`: a leading `\n` belongs to it.
  SseEvent building_;          // Name and data of the event being read.
  bool has_data_ = false;
  // Complete events, oldest first: each one's name then its data, back to back in
  // `ready_bytes_`, with their sizes in `ready_`. The next to pull is `ready_[ready_head_]`,
  // whose bytes start at `ready_offset_`. Both containers are emptied once all are pulled.
  struct ReadySizes {
    std::size_t name;
    std::size_t data;
  };
  std::string ready_bytes_;
  std::vector<ReadySizes> ready_;
  std::size_t ready_head_ = 0;
  std::size_t ready_offset_ = 0;
  bool overflowed_ = false;
};

}  // namespace cms::upstream
