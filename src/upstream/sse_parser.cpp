#include "upstream/sse_parser.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace cms::upstream {
namespace {

// The first `byte` in [first, last), or `last`. memchr is vectorised, so two calls per line
// (one for `\n`, one for `\r` only after passing the previous `\r`) read each byte at most
// twice, in wide steps; string_view::find_first_of would call memchr once per input byte.
const char* FindByte(const char* first, const char* last, char byte) {
  if (first == last) return last;
  const void* found = std::memchr(first, byte, static_cast<std::size_t>(last - first));
  return found == nullptr ? last : static_cast<const char*>(found);
}

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void SseParser::Feed(std::string_view bytes) {
  if (overflowed_) return;
  DropPulled();
  const char* next = bytes.data();
  const char* const end = next + bytes.size();
  if (skip_next_lf_ && next != end) {
    // The previous Feed() ended with `\r`; a `\n` here completes that `\r\n`, not a new line.
    if (*next == '\n') ++next;
    skip_next_lf_ = false;
  }
  // The next `\r` at or after `next` (or `end`): searched again only once the lines passed
  // it, so a stream without `\r` is searched for it once per Feed().
  const char* carriage_return = FindByte(next, end, '\r');
  while (next != end) {
    if (carriage_return < next) carriage_return = FindByte(next, end, '\r');
    // A `\n` after the next `\r` cannot end this line, so the search stops there.
    const char* const line_end = FindByte(next, carriage_return, '\n');
    if (line_end == end) {
      AppendToLine(std::string_view(next, static_cast<std::size_t>(end - next)));
      return;
    }
    const std::string_view piece(next, static_cast<std::size_t>(line_end - next));
    next = line_end + 1;
    if (*line_end == '\r') {
      if (next == end) {
        skip_next_lf_ = true;
      } else if (*next == '\n') {
        ++next;
      }
    }
    if (line_.empty()) {
      // The common case: the whole line is in these bytes, so it is read in place.
      if (OverBound(piece.size())) {
        Overflow();
        return;
      }
      ProcessLine(piece);
    } else {
      AppendToLine(piece);
      if (overflowed_) return;
      ProcessLine(line_);
      line_.clear();
    }
  }
}

std::optional<SseEvent> SseParser::Next() {
  SseEventView view;
  if (!Next(view)) return std::nullopt;
  return SseEvent{std::string(view.event), std::string(view.data)};
}

bool SseParser::Next(SseEventView& event) {
  if (ready_head_ == ready_.size()) return false;
  const ReadySizes sizes = ready_[ready_head_++];
  const std::string_view bytes(ready_bytes_);
  event.event = bytes.substr(ready_offset_, sizes.name);
  event.data = bytes.substr(ready_offset_ + sizes.name, sizes.data);
  ready_offset_ += sizes.name + sizes.data;
  return true;
}

void SseParser::DropPulled() {
  if (ready_head_ == 0) return;
  if (ready_head_ != ready_.size() && ready_offset_ < ready_bytes_.size() / 2) {
    // A consumer that keeps a few events queued would otherwise grow the buffer for as long
    // as the stream lasts; moving the rest down once the pulled part is most of it is
    // amortised constant time per byte.
    return;
  }
  ready_bytes_.erase(0, ready_offset_);
  ready_.erase(ready_.begin(), ready_.begin() + static_cast<std::ptrdiff_t>(ready_head_));
  ready_head_ = 0;
  ready_offset_ = 0;
}

bool SseParser::OverBound(std::size_t more_bytes) const {
  const std::size_t pending = building_.event.size() + building_.data.size() + line_.size();
  return pending + more_bytes > max_event_bytes_;
}

void SseParser::Overflow() {
  overflowed_ = true;
  // Nothing more will be decoded: give the buffered partial event back.
  line_.clear();
  line_.shrink_to_fit();
  building_.event.clear();
  building_.event.shrink_to_fit();
  building_.data.clear();
  building_.data.shrink_to_fit();
}

void SseParser::AppendToLine(std::string_view piece) {
  if (OverBound(piece.size())) {
    Overflow();
    return;
  }
  line_.append(piece);
}

void SseParser::ProcessLine(std::string_view line) {
  if (line.empty()) {
    DispatchEvent();
    return;
  }
  if (line.front() == ':') return;  // A comment (`: ping` keep-alives).
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    building_.event.assign(value);
  } else if (field == "data") {
    if (has_data_) building_.data.push_back('\n');
    building_.data.append(value);
    has_data_ = true;
  }
  // `id`, `retry` and unknown fields carry nothing the Messages API uses.
}

void SseParser::DispatchEvent() {
  if (has_data_ || !building_.event.empty()) {
    ready_bytes_.append(building_.event);
    ready_bytes_.append(building_.data);
    ready_.push_back({building_.event.size(), building_.data.size()});
  }
  building_.event.clear();
  building_.data.clear();
  has_data_ = false;
}

}  // namespace cms::upstream
