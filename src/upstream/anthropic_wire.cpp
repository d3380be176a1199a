#include "upstream/anthropic_wire.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/json_escape.hpp"
#include "upstream/message_response_parser.hpp"
#include "upstream/wire_dom.hpp"

namespace cms::upstream {
namespace {

namespace json = boost::json;

constexpr std::size_t kLogSnippetBytes = 256;
// Holds the DOM of any stream event (~100-600 bytes of JSON) and of an error body up to
// ~3.3 KB (measured: its strings plus ~600 bytes); a larger DOM continues on the heap.
constexpr std::size_t kScratchJsonBytes = 4096;

using core::AppendJsonString;
using dom::AppendTextBlock;
using dom::MergeUsage;
using dom::ReadOptionalString;

template <class Number>
void AppendNumber(std::string& out, Number number) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), number);
  if (ec != std::errc()) throw std::logic_error("number does not fit its buffer");
  out.append(buffer, end);
}

// A prefix of `body` safe to log: bounded, and never cut inside a UTF-8 sequence.
std::string LogSnippet(std::string_view body) {
  if (body.size() <= kLogSnippetBytes) return std::string(body);
  std::size_t cut = kLogSnippetBytes;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
  std::string snippet(body.substr(0, cut));
  snippet.append("...");
  return snippet;
}

UpstreamError Malformed(int status, std::string log_message) {
  return UpstreamError{
      UpstreamErrorKind::kUnavailable, status, {}, std::nullopt, std::move(log_message)};
}

// One JSON document parsed into a buffer inside this object, which is meant to live on the
// stack of the (non-coroutine) function reading it: an ordinary event or answer costs no
// heap allocation for its DOM, and freeing the DOM is free. A larger document continues on
// the heap in a few growing blocks. The DOM points into the buffer, so nothing of it may be
// kept past this object's scope: readers copy what they keep into std::strings.
// (json::parse keeps its own temporary stack in a buffer of its stack frame as well.)
class ScratchJson {
 public:
  explicit ScratchJson(std::string_view text) : root_(Parse(text, &resource_)) {}
  ScratchJson(const ScratchJson&) = delete;
  ScratchJson& operator=(const ScratchJson&) = delete;
  ScratchJson(ScratchJson&&) = delete;
  ScratchJson& operator=(ScratchJson&&) = delete;
  ~ScratchJson() = default;

  // The root object, or nullptr when the text is not JSON or its root is not an object.
  [[nodiscard]] const json::object* Object() const { return root_.if_object(); }

 private:
  static json::value Parse(std::string_view text, json::monotonic_resource* resource) {
    boost::system::error_code ec;
    // A monotonic_resource* (not a memory_resource*) tells the DOM deallocation is a no-op.
    json::value root = json::parse(text, ec, resource);
    if (ec) return nullptr;
    return root;
  }

  // Declaration order matters: the DOM is destroyed before the resource and the buffer.
  alignas(std::max_align_t) unsigned char buffer_[kScratchJsonBytes];
  json::monotonic_resource resource_{buffer_, sizeof(buffer_)};
  json::value root_;
};

// Whether every byte of `text` is in [low, high].
bool BytesIn(std::string_view text, unsigned char low, unsigned char high) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < low || byte > high) return false;
  }
  return true;
}

// The length of the well-formed UTF-8 sequence (RFC 3629 section 4, as Boost.JSON checks it)
// that starts `text` with a byte >= 0x80, or 0 when there is none there.
std::size_t Utf8SequenceLength(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text.front());
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // Overlong below.
    if (lead == 0xED) second_high = 0x9F;  // Surrogates above.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // Overlong below.
    if (lead == 0xF4) second_high = 0x8F;  // Beyond U+10FFFF above.
  } else {
    return 0;  // A continuation byte, an overlong lead (C0, C1) or F5-FF.
  }
  if (text.size() < length || !BytesIn(text.substr(1, 1), second_low, second_high) ||
      !BytesIn(text.substr(2, length - 2), 0x80, 0xBF)) {
    return 0;
  }
  return length;
}

// Whether `text` is, byte for byte, the value of a JSON string without escapes: no `"`, no
// `\`, no control character, and valid UTF-8.
bool IsPlainJsonStringValue(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == '"' || byte == '\\') return false;
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Removes a JSON non-negative integer of at most 9 digits (no leading zero) from the front.
bool ConsumeSmallIndex(std::string_view& text) {
  constexpr std::size_t kMaxDigits = 9;
  std::size_t digits = 0;
  while (digits < text.size() && digits <= kMaxDigits && text[digits] >= '0' &&
         text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > kMaxDigits || (digits > 1 && text.front() == '0')) return false;
  text.remove_prefix(digits);
  return true;
}

}  // namespace

namespace detail {

std::optional<std::string_view> PlainTextDelta(std::string_view data) {
  constexpr std::string_view kHead = R"({"type":"content_block_delta","index":)";
  constexpr std::string_view kMiddle = R"(,"delta":{"type":"text_delta","text":")";
  constexpr std::string_view kTail = R"("}})";
  if (!data.starts_with(kHead)) return std::nullopt;
  data.remove_prefix(kHead.size());
  if (!ConsumeSmallIndex(data) || !data.starts_with(kMiddle) || !data.ends_with(kTail)) {
    return std::nullopt;
  }
  data.remove_prefix(kMiddle.size());
  data.remove_suffix(kTail.size());
  // Without escapes, the first `"` would end the string: IsPlainJsonStringValue refuses any,
  // so `kTail` is where the string really ends.
  if (!IsPlainJsonStringValue(data)) return std::nullopt;
  return data;
}

bool IsPlainEmptyEvent(std::string_view name, std::string_view data) {
  if (name == "content_block_stop") {
    constexpr std::string_view kHead = R"({"type":"content_block_stop","index":)";
    if (!data.starts_with(kHead)) return false;
    data.remove_prefix(kHead.size());
    return ConsumeSmallIndex(data) && data == "}";
  }
  if (name == "content_block_start") {
    constexpr std::string_view kHead = R"({"type":"content_block_start","index":)";
    if (!data.starts_with(kHead)) return false;
    data.remove_prefix(kHead.size());
    return ConsumeSmallIndex(data) && data == R"(,"content_block":{"type":"text","text":""}})";
  }
  return name == "message_stop" && data == R"({"type":"message_stop"})";
}

}  // namespace detail

namespace {

std::size_t EstimateBodyBytes(const core::CompletionRequest& request) {
  std::size_t bytes = 192 + request.model.size();
  if (request.system) bytes += request.system->size() + 96;
  for (const core::Message& message : request.messages) bytes += message.content.size() + 40;
  return bytes;
}

}  // namespace

std::string BuildMessagesBody(const core::CompletionRequest& request, bool stream) {
  if (request.temperature && !std::isfinite(*request.temperature)) {
    throw std::invalid_argument("temperature must be finite");
  }
  std::string body;
  body.reserve(EstimateBodyBytes(request));
  body.append(R"({"model":)");
  AppendJsonString(body, request.model);
  body.append(R"(,"max_tokens":)");
  AppendNumber(body, request.max_tokens);
  if (request.system) {
    body.append(R"(,"system":)");
    if (request.cache_system) {
      body.append(R"([{"type":"text","text":)");
      AppendJsonString(body, *request.system);
      body.append(R"(,"cache_control":{"type":"ephemeral"}}])");
    } else {
      AppendJsonString(body, *request.system);
    }
  }
  body.append(R"(,"messages":[)");
  bool first = true;
  for (const core::Message& message : request.messages) {
    if (!first) body.push_back(',');
    first = false;
    body.append(R"({"role":")");
    body.append(core::RoleName(message.role));
    body.append(R"(","content":)");
    AppendJsonString(body, message.content);
    body.push_back('}');
  }
  body.push_back(']');
  if (request.temperature) {
    body.append(R"(,"temperature":)");
    AppendNumber(body, *request.temperature);
  }
  if (stream) body.append(R"(,"stream":true)");
  body.push_back('}');
  return body;
}

UpstreamResult<core::Completion> ParseMessageResponse(std::string_view body) {
  constexpr int kStatus = 200;
  boost::system::result<core::Completion, detail::MessageResponseDefect> read =
      detail::ReadMessageResponse(body);
  if (read.has_value()) return std::move(*read);
  switch (read.error()) {
    case detail::MessageResponseDefect::kNotAnObject:
      return Malformed(kStatus, "response body is not a JSON object");
    case detail::MessageResponseDefect::kNoContentArray:
      return Malformed(kStatus, "response has no content array");
    case detail::MessageResponseDefect::kMalformedContentBlock:
      return Malformed(kStatus, "response has a malformed content block");
    case detail::MessageResponseDefect::kMalformedModelOrStopReason:
      return Malformed(kStatus, "response model or stop_reason is not a string");
    case detail::MessageResponseDefect::kMalformedUsage:
      return Malformed(kStatus, "response usage is malformed");
  }
  throw std::logic_error("unknown MessageResponseDefect");
}

UpstreamError ParseErrorResponse(int status, std::string_view body,
                                 std::optional<std::string> retry_after) {
  UpstreamError error{KindForStatus(status), status, {}, std::move(retry_after), {}};
  const ScratchJson document(body);
  const json::object* root = document.Object();
  const json::object* envelope = nullptr;
  if (root != nullptr) {
    if (const json::value* inner = root->if_contains("error")) envelope = inner->if_object();
  }
  if (envelope == nullptr) {
    error.log_message =
        body.empty() ? std::string("empty error body") : "non-JSON error body: " + LogSnippet(body);
    return error;
  }
  std::string message;
  if (!ReadOptionalString(*envelope, "type", error.error_type)) error.error_type.clear();
  if (!ReadOptionalString(*envelope, "message", message)) message.clear();
  error.log_message = LogSnippet(message);
  return error;
}

std::optional<std::string> RetryAfterFromHeaders(std::optional<std::string_view> retry_after,
                                                 std::optional<std::string_view> retry_after_ms) {
  if (retry_after) return std::string(*retry_after);
  if (!retry_after_ms) return std::nullopt;
  const std::string_view text = *retry_after_ms;
  double milliseconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), milliseconds);
  // A day is far beyond any sensible delay; larger values are nonsense, not advice.
  constexpr double kMaxMilliseconds = 86'400'000.0;
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(milliseconds) ||
      milliseconds < 0 || milliseconds > kMaxMilliseconds) {
    return std::nullopt;
  }
  const auto seconds = static_cast<std::int64_t>(std::ceil(milliseconds / 1000.0));
  return std::to_string(seconds);
}

namespace {

constexpr int kEventStatus = 0;  // The HTTP status was 200; an event has none of its own.

bool IsKnownEvent(std::string_view name) {
  return name == "message_start" || name == "content_block_start" ||
         name == "content_block_delta" || name == "content_block_stop" || name == "message_delta" ||
         name == "message_stop" || name == "error";
}

// An `error` event: the stream cannot go on. Its error.type and message, when it has them.
UpstreamError StreamErrorEvent(const json::object* data) {
  UpstreamError error = Malformed(kEventStatus, "stream error event");
  const json::value* inner = data != nullptr ? data->if_contains("error") : nullptr;
  const json::object* envelope = inner != nullptr ? inner->if_object() : nullptr;
  if (envelope == nullptr) return error;
  std::string message;
  if (!ReadOptionalString(*envelope, "type", error.error_type)) error.error_type.clear();
  if (ReadOptionalString(*envelope, "message", message) && !message.empty()) {
    error.log_message = "stream error event: " + LogSnippet(message);
  }
  return error;
}

// The text a `content_block_start` adds: a text block's initial text, nothing for others.
UpstreamResult<std::string> BlockStartText(const json::object& data) {
  std::string text;
  const json::value* block = data.if_contains("content_block");
  if (block == nullptr || !AppendTextBlock(*block, text)) {
    return Malformed(kEventStatus, "content_block_start has a malformed content_block");
  }
  return text;
}

// The text a `content_block_delta` adds: a text_delta's text. input_json_delta,
// thinking_delta, signature_delta, citations_delta: not answer text.
UpstreamResult<std::string> DeltaText(const json::object& data) {
  const json::value* delta_value = data.if_contains("delta");
  const json::object* delta = delta_value ? delta_value->if_object() : nullptr;
  if (delta == nullptr) return Malformed(kEventStatus, "content_block_delta has no delta");
  const json::value* type = delta->if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "text_delta") {
    return std::string();
  }
  const json::value* piece = delta->if_contains("text");
  if (piece == nullptr || !piece->is_string()) {
    return Malformed(kEventStatus, "text_delta has no text");
  }
  return std::string(piece->get_string().data(), piece->get_string().size());
}

}  // namespace

UpstreamResult<std::string> StreamAccumulator::Apply(SseEventView event) {
  const std::string_view name = event.event;
  if (!IsKnownEvent(name)) return std::string();  // `ping` and event types added later.
  if (started_) {
    if (std::optional<std::string_view> text = ApplyInPlace(name, event.data)) {
      return std::string(*text);
    }
  }
  const ScratchJson document(event.data);
  const json::object* data = document.Object();
  if (name == "error") return StreamErrorEvent(data);
  if (data == nullptr) {
    return Malformed(kEventStatus, "stream event " + std::string(name) + " is not JSON");
  }
  if (name == "message_start") return ApplyMessageStart(*data);
  if (!started_) return Malformed(kEventStatus, std::string(name) + " before message_start");

  UpstreamResult<std::string> text = std::string();
  if (name == "content_block_start") {
    text = BlockStartText(*data);
  } else if (name == "content_block_delta") {
    text = DeltaText(*data);
  } else if (name == "message_delta") {
    text = ApplyMessageDelta(*data);
  } else if (name == "message_stop") {
    done_ = true;
  }
  if (text) completion_.content.append(*text);
  return text;
}

std::optional<std::string_view> StreamAccumulator::ApplyInPlace(std::string_view name,
                                                                std::string_view data) {
  if (name == "content_block_delta") {
    // Nearly every event of an answer: read in place when it has the exact shape Anthropic
    // sends, which is what the DOM would read from it.
    const std::optional<std::string_view> text = detail::PlainTextDelta(data);
    if (text) completion_.content.append(*text);
    return text;
  }
  if (!detail::IsPlainEmptyEvent(name, data)) return std::nullopt;
  // What the DOM would make of them, without building one (a DOM is most of what such a
  // small event costs).
  if (name == "message_stop") done_ = true;
  return std::string_view();
}

UpstreamResult<std::string> StreamAccumulator::ApplyMessageStart(const json::object& data) {
  if (started_) return Malformed(kEventStatus, "second message_start");
  started_ = true;
  const json::value* message = data.if_contains("message");
  if (message == nullptr || !message->is_object()) {
    return Malformed(kEventStatus, "message_start has no message");
  }
  const json::object& fields = message->get_object();
  if (!ReadOptionalString(fields, "model", completion_.model) ||
      !MergeUsage(fields.if_contains("usage"), completion_.usage)) {
    return Malformed(kEventStatus, "message_start has a malformed model or usage");
  }
  return std::string();
}

UpstreamResult<std::string> StreamAccumulator::ApplyMessageDelta(const json::object& data) {
  if (const json::value* delta_value = data.if_contains("delta")) {
    const json::object* delta = delta_value->if_object();
    if (delta == nullptr || !ReadOptionalString(*delta, "stop_reason", completion_.stop_reason)) {
      return Malformed(kEventStatus, "message_delta has a malformed delta");
    }
  }
  if (!MergeUsage(data.if_contains("usage"), completion_.usage)) {
    return Malformed(kEventStatus, "message_delta has malformed usage");
  }
  return std::string();
}

}  // namespace cms::upstream
