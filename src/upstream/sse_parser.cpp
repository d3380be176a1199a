#include "upstream/sse_parser.hpp"

#include <utility>

namespace cms::upstream {

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void SseParser::Feed(std::string_view bytes) {
  if (overflowed_) return;
  if (skip_next_lf_ && !bytes.empty()) {
    // The previous Feed() ended with `\r`; a `\n` here completes that `\r\n`, not a new line.
    if (bytes.front() == '\n') bytes.remove_prefix(1);
    skip_next_lf_ = false;
  }
  while (!bytes.empty() && !overflowed_) {
    const std::size_t end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      AppendToLine(bytes);
      return;
    }
    AppendToLine(bytes.substr(0, end));
    if (overflowed_) return;
    std::size_t consumed = end + 1;
    if (bytes[end] == '\r') {
      if (consumed < bytes.size()) {
        if (bytes[consumed] == '\n') ++consumed;
      } else {
        skip_next_lf_ = true;
      }
    }
    bytes.remove_prefix(consumed);
    ProcessLine();
  }
}

std::optional<SseEvent> SseParser::Next() {
  if (ready_.empty()) return std::nullopt;
  SseEvent event = std::move(ready_.front());
  ready_.pop_front();
  return event;
}

std::size_t SseParser::PendingBytes() const {
  return event_name_.size() + data_.size() + line_.size();
}

void SseParser::AppendToLine(std::string_view piece) {
  if (PendingBytes() + piece.size() > max_event_bytes_) {
    overflowed_ = true;
    line_.clear();
    line_.shrink_to_fit();
    data_.clear();
    data_.shrink_to_fit();
    return;
  }
  line_.append(piece);
}

void SseParser::ProcessLine() {
  if (line_.empty()) {
    DispatchEvent();
    return;
  }
  if (line_.front() == ':') {  // A comment (`: ping` keep-alives).
    line_.clear();
    return;
  }
  const std::string_view line(line_);
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_name_.assign(value);
  } else if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  // `id`, `retry` and unknown fields carry nothing the Messages API uses.
  line_.clear();
}

void SseParser::DispatchEvent() {
  if (has_data_ || !event_name_.empty()) {
    ready_.push_back(SseEvent{std::move(event_name_), std::move(data_)});
  }
  event_name_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace cms::upstream
