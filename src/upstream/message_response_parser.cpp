#include "upstream/message_response_parser.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>

namespace cms::upstream::detail {
namespace {

namespace json = boost::json;
using boost::system::error_code;
using JsonStringView = json::string_view;

// The containers a Completion is read from. A container anywhere else is skipped: only its
// nesting is counted.
enum class Scope : std::uint8_t {
  kDocument,  // Outside the root value.
  kRoot,      // The members of the root object.
  kContent,   // The items of the root's `content` array: the blocks.
  kBlock,     // The members of one block.
  kUsage,     // The members of the root's `usage` object.
};

// What a key names, in the scope it appears in.
enum class Field : std::uint8_t {
  kOther,
  kContent,  // kRoot's.
  kModel,
  kStopReason,
  kUsage,
  kType,  // kBlock's.
  kText,
  kInputTokens,  // kUsage's, in core::Usage order.
  kOutputTokens,
  kCacheCreationInputTokens,
  kCacheReadInputTokens,
};

// The kind of a value as far as it matters here: a number is a counter when it is an integer
// that fits int64, as a DOM's is_int64() or is_uint64() <= INT64_MAX tells.
enum class ValueKind : std::uint8_t { kObject, kArray, kString, kNull, kCounter, kOther };

// Where the pieces of the string being parsed go.
enum class StringSink : std::uint8_t { kNone, kModel, kStopReason, kText, kType };

// The `text` member of the current block, as its last occurrence left it.
enum class BlockText : std::uint8_t { kAbsent, kString, kNotString };

constexpr std::string_view kTextType = "text";
constexpr std::size_t kCounterCount = 4;
constexpr auto kMaxCounter = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
// No key read here is longer ("cache_creation_input_tokens"): a longer one names no field.
constexpr std::size_t kMaxFieldKeyBytes = 27;

Field RootField(std::string_view key) {
  if (key == "content") return Field::kContent;
  if (key == "model") return Field::kModel;
  if (key == "stop_reason") return Field::kStopReason;
  if (key == "usage") return Field::kUsage;
  return Field::kOther;
}

Field BlockField(std::string_view key) {
  if (key == "type") return Field::kType;
  if (key == "text") return Field::kText;
  return Field::kOther;
}

Field UsageField(std::string_view key) {
  if (key == "input_tokens") return Field::kInputTokens;
  if (key == "output_tokens") return Field::kOutputTokens;
  if (key == "cache_creation_input_tokens") return Field::kCacheCreationInputTokens;
  if (key == "cache_read_input_tokens") return Field::kCacheReadInputTokens;
  return Field::kOther;
}

Field FieldIn(Scope scope, std::string_view key) {
  switch (scope) {
    case Scope::kRoot:
      return RootField(key);
    case Scope::kBlock:
      return BlockField(key);
    case Scope::kUsage:
      return UsageField(key);
    case Scope::kDocument:
    case Scope::kContent:
      break;
  }
  return Field::kOther;
}

// The length of the well-formed UTF-8 sequence (RFC 3629 section 4, the rule Boost.JSON
// checks strings by) at `p`, whose first byte is >= 0x80; 0 when there is none there.
std::size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = *p;
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  // A continuation byte, an overlong lead (C0, C1), or a lead beyond U+10FFFF (F5-FF).
  if (lead < 0xC2 || lead > 0xF4) return 0;
  if (lead < 0xE0) {
    length = 2;
  } else if (lead < 0xF0) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // Overlong below.
    if (lead == 0xED) second_high = 0x9F;  // Surrogates above.
  } else {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // Overlong below.
    if (lead == 0xF4) second_high = 0x8F;  // Beyond U+10FFFF above.
  }
  if (static_cast<std::size_t>(end - p) < length || p[1] < second_low || p[1] > second_high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return length;
}

// The first byte >= 0x80 in [p, end), or end: ASCII, nearly all of a typical answer, is
// skipped 8 bytes per step.
const unsigned char* SkipAscii(const unsigned char* p, const unsigned char* end) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  while (end - p >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof(word));
    const std::uint64_t high = word & kHighBits;
    if (high != 0) {
      const int bit = std::endian::native == std::endian::little ? std::countr_zero(high)
                                                                 : std::countl_zero(high);
      return p + bit / 8;
    }
    p += 8;
  }
  while (p != end && *p < 0x80) ++p;
  return p;
}

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p != end) {
    if (*p < 0x80) {
      p = SkipAscii(p, end);
      continue;
    }
    const std::size_t length = Utf8SequenceLength(p, end);
    if (length == 0) return false;
    p += length;
  }
  return true;
}

// A boost::json::basic_parser handler filling a Completion as the parser goes. Every member
// is recorded as its last occurrence left it, and judged only once the whole body parsed
// (Finish()): a later syntax error or a repeated key may still change the verdict, so no
// defect stops the parse early.
class MessageResponseReader {
 public:
  // The verdict. REQUIRES: the parser accepted the whole body; called once.
  [[nodiscard]] boost::system::result<core::Completion, MessageResponseDefect> Finish() {
    if (!root_is_object_) return MessageResponseDefect::kNotAnObject;
    if (!content_is_array_) return MessageResponseDefect::kNoContentArray;
    if (block_malformed_) return MessageResponseDefect::kMalformedContentBlock;
    if (model_malformed_ || stop_reason_malformed_) {
      return MessageResponseDefect::kMalformedModelOrStopReason;
    }
    if (usage_malformed_) return MessageResponseDefect::kMalformedUsage;
    for (const bool malformed : counter_malformed_) {
      if (malformed) return MessageResponseDefect::kMalformedUsage;
    }
    return std::move(completion_);
  }

  // The names below are fixed by Boost.JSON's basic_parser handler concept. The limits are
  // those of the DOM (boost::json::detail::handler), so both refuse the same documents.
  // NOLINTBEGIN(readability-identifier-naming)
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) { return Open(ValueKind::kObject); }
  bool on_object_end(std::size_t, error_code&) { return Close(); }
  bool on_array_begin(error_code&) { return Open(ValueKind::kArray); }
  bool on_array_end(std::size_t, error_code&) { return Close(); }

  bool on_key_part(JsonStringView part, std::size_t, error_code&) {
    AppendKey(part);
    return true;
  }
  bool on_key(JsonStringView part, std::size_t, error_code&) {
    EndKey(part);
    return true;
  }

  bool on_string_part(JsonStringView part, std::size_t, error_code&) {
    AppendString(part);
    return true;
  }
  bool on_string(JsonStringView part, std::size_t, error_code&) {
    AppendString(part);
    EndString();
    return true;
  }

  bool on_number_part(JsonStringView, error_code&) { return true; }
  bool on_int64(std::int64_t value, JsonStringView, error_code&) {
    return Scalar(ValueKind::kCounter, value);
  }
  bool on_uint64(std::uint64_t value, JsonStringView, error_code&) {
    if (value > kMaxCounter) return Scalar(ValueKind::kOther);
    return Scalar(ValueKind::kCounter, static_cast<std::int64_t>(value));
  }
  bool on_double(double, JsonStringView, error_code&) { return Scalar(ValueKind::kOther); }
  bool on_bool(bool, error_code&) { return Scalar(ValueKind::kOther); }
  bool on_null(error_code&) { return Scalar(ValueKind::kNull); }

  // Comments are disabled in the parse options; these only satisfy the handler concept.
  bool on_comment_part(JsonStringView, error_code&) { return true; }
  bool on_comment(JsonStringView, error_code&) { return true; }
  // NOLINTEND(readability-identifier-naming)

 private:
  // ---- Structure ----

  bool Open(ValueKind kind) {
    if (skipped_depth_ == 0) {
      if (const std::optional<Scope> inner = BeginValue(kind)) {
        scope_ = *inner;
        return true;
      }
    }
    ++skipped_depth_;
    return true;
  }

  bool Close() {
    if (skipped_depth_ > 0) {
      --skipped_depth_;
      return true;
    }
    switch (scope_) {
      case Scope::kBlock:
        EndBlock();
        scope_ = Scope::kContent;
        break;
      case Scope::kContent:
      case Scope::kUsage:
        scope_ = Scope::kRoot;
        break;
      case Scope::kRoot:
      case Scope::kDocument:
        scope_ = Scope::kDocument;
        break;
    }
    return true;
  }

  bool Scalar(ValueKind kind, std::int64_t counter = 0) {
    if (skipped_depth_ == 0) BeginValue(kind, counter);
    return true;
  }

  // Records a value starting in scope_ (with nothing being skipped). Returns the scope its
  // members or items are read in when it is a container read from, else nullopt.
  std::optional<Scope> BeginValue(ValueKind kind, std::int64_t counter = 0) {
    switch (scope_) {
      case Scope::kDocument:
        if (kind != ValueKind::kObject) return std::nullopt;
        root_is_object_ = true;
        return Scope::kRoot;
      case Scope::kRoot:
        return BeginRootMember(kind);
      case Scope::kContent:
        if (kind != ValueKind::kObject) {
          block_malformed_ = true;
          return std::nullopt;
        }
        BeginBlock();
        return Scope::kBlock;
      case Scope::kBlock:
        BeginBlockMember(kind);
        return std::nullopt;
      case Scope::kUsage:
        BeginCounter(kind, counter);
        return std::nullopt;
    }
    return std::nullopt;
  }

  // The field of the member whose value starts now. Every key is followed by its value, so
  // this consumes what the last key set.
  Field TakeField() { return std::exchange(field_, Field::kOther); }

  // ---- Members of the root: each occurrence replaces what an earlier one recorded ----

  std::optional<Scope> BeginRootMember(ValueKind kind) {
    switch (TakeField()) {
      case Field::kContent:
        content_is_array_ = kind == ValueKind::kArray;
        block_malformed_ = false;
        completion_.content.clear();
        if (content_is_array_) return Scope::kContent;
        break;
      case Field::kModel:
        BeginOptionalString(kind, StringSink::kModel, completion_.model, model_malformed_);
        break;
      case Field::kStopReason:
        BeginOptionalString(kind, StringSink::kStopReason, completion_.stop_reason,
                            stop_reason_malformed_);
        break;
      case Field::kUsage:
        completion_.usage = core::Usage{};
        counter_malformed_ = {};
        usage_malformed_ = kind != ValueKind::kObject && kind != ValueKind::kNull;
        if (kind == ValueKind::kObject) return Scope::kUsage;
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  // A string or null member: null leaves `out` empty; any other kind is malformed.
  void BeginOptionalString(ValueKind kind, StringSink sink, std::string& out, bool& malformed) {
    out.clear();
    malformed = kind != ValueKind::kString && kind != ValueKind::kNull;
    if (kind == ValueKind::kString) sink_ = sink;
  }

  // ---- Blocks: the text goes straight into the answer and is taken back at the block's
  // end unless its type turned out to be "text" ----

  void BeginBlock() {
    block_start_ = completion_.content.size();
    block_is_text_ = false;
    block_text_ = BlockText::kAbsent;
  }

  void BeginBlockMember(ValueKind kind) {
    switch (TakeField()) {
      case Field::kType:
        block_is_text_ = false;  // Until a string "text" is read whole.
        if (kind == ValueKind::kString) {
          sink_ = StringSink::kType;
          type_matched_ = 0;
          type_mismatch_ = false;
        }
        break;
      case Field::kText:
        completion_.content.resize(block_start_);
        block_text_ = kind == ValueKind::kString ? BlockText::kString : BlockText::kNotString;
        if (kind == ValueKind::kString) sink_ = StringSink::kText;
        break;
      default:
        break;
    }
  }

  void EndBlock() {
    if (!block_is_text_) {
      completion_.content.resize(block_start_);  // tool_use, thinking, ...: not answer text.
      return;
    }
    if (block_text_ != BlockText::kString) block_malformed_ = true;
  }

  // Compares the next piece of a block's type with "text".
  void MatchType(JsonStringView part) {
    if (type_mismatch_) return;
    const std::string_view piece(part.data(), part.size());
    if (piece.size() > kTextType.size() - type_matched_ ||
        kTextType.substr(type_matched_, piece.size()) != piece) {
      type_mismatch_ = true;
      return;
    }
    type_matched_ += piece.size();
  }

  // ---- Usage counters ----

  void BeginCounter(ValueKind kind, std::int64_t value) {
    const Field field = TakeField();
    std::int64_t* counter = nullptr;
    switch (field) {
      case Field::kInputTokens:
        counter = &completion_.usage.input_tokens;
        break;
      case Field::kOutputTokens:
        counter = &completion_.usage.output_tokens;
        break;
      case Field::kCacheCreationInputTokens:
        counter = &completion_.usage.cache_creation_input_tokens;
        break;
      case Field::kCacheReadInputTokens:
        counter = &completion_.usage.cache_read_input_tokens;
        break;
      default:
        return;
    }
    const auto index =
        static_cast<std::size_t>(field) - static_cast<std::size_t>(Field::kInputTokens);
    counter_malformed_[index] = kind != ValueKind::kCounter && kind != ValueKind::kNull;
    *counter = kind == ValueKind::kCounter ? value : 0;
  }

  // ---- Keys and strings, which may arrive in pieces (around escapes) ----

  void AppendKey(JsonStringView part) {
    if (skipped_depth_ > 0 || key_too_long_) return;
    if (part.size() > key_.size() - key_size_) {
      key_too_long_ = true;
      return;
    }
    std::memcpy(key_.data() + key_size_, part.data(), part.size());
    key_size_ += part.size();
  }

  void EndKey(JsonStringView part) {
    if (skipped_depth_ > 0) return;
    if (key_size_ == 0 && !key_too_long_) {  // The whole key at once: the usual case.
      field_ = FieldIn(scope_, std::string_view(part.data(), part.size()));
      return;
    }
    AppendKey(part);
    field_ =
        key_too_long_ ? Field::kOther : FieldIn(scope_, std::string_view(key_.data(), key_size_));
    key_size_ = 0;
    key_too_long_ = false;
  }

  void AppendString(JsonStringView part) {
    if (!in_string_) {
      in_string_ = true;
      sink_ = StringSink::kNone;
      if (skipped_depth_ == 0) BeginValue(ValueKind::kString);
    }
    switch (sink_) {
      case StringSink::kNone:
        break;
      case StringSink::kModel:
        completion_.model.append(part.data(), part.size());
        break;
      case StringSink::kStopReason:
        completion_.stop_reason.append(part.data(), part.size());
        break;
      case StringSink::kText:
        completion_.content.append(part.data(), part.size());
        break;
      case StringSink::kType:
        MatchType(part);
        break;
    }
  }

  void EndString() {
    if (sink_ == StringSink::kType) {
      block_is_text_ = !type_mismatch_ && type_matched_ == kTextType.size();
    }
    in_string_ = false;
    sink_ = StringSink::kNone;
  }

  core::Completion completion_;

  // Where the parser is.
  Scope scope_ = Scope::kDocument;
  std::size_t skipped_depth_ = 0;  // Containers open inside a value nothing is read from.
  Field field_ = Field::kOther;    // The member whose value comes next in scope_.
  std::array<char, kMaxFieldKeyBytes> key_{};  // A key arriving in pieces, so far.
  std::size_t key_size_ = 0;
  bool key_too_long_ = false;  // It is longer than key_: no field's.
  bool in_string_ = false;
  StringSink sink_ = StringSink::kNone;
  std::size_t type_matched_ = 0;  // Bytes of "text" the current `type` string matched.
  bool type_mismatch_ = false;

  // The current block.
  std::size_t block_start_ = 0;  // Where its text starts in completion_.content.
  bool block_is_text_ = false;
  BlockText block_text_ = BlockText::kAbsent;

  // What Finish() judges.
  bool root_is_object_ = false;
  bool content_is_array_ = false;
  bool block_malformed_ = false;
  bool model_malformed_ = false;
  bool stop_reason_malformed_ = false;
  bool usage_malformed_ = false;  // Not an object nor null.
  std::array<bool, kCounterCount> counter_malformed_{};
};

}  // namespace

boost::system::result<core::Completion, MessageResponseDefect> ReadMessageResponse(
    std::string_view body) {
  // Boost.JSON checks UTF-8 inside strings, but once it meets a byte >= 0x80 in one it
  // reads the rest of that string a byte at a time, which cost a third of a typical answer's
  // reading. Checking the whole body here instead (8 ASCII bytes per step) gives the same
  // verdict: outside strings such a byte is a syntax error anyway, and in a well-formed body
  // no string can fail the check the parser then skips.
  if (!IsValidUtf8(body)) return MessageResponseDefect::kNotAnObject;
  json::parse_options options;  // Otherwise the defaults of the boost::json::parse replaced.
  options.allow_invalid_utf8 = true;
  json::basic_parser<MessageResponseReader> parser{options};
  error_code ec;
  // more=false: the body is complete, so a truncated value is an error here, not a wait.
  const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  // Something after the root value (past trailing whitespace) is not JSON either.
  if (ec || consumed != body.size()) return MessageResponseDefect::kNotAnObject;
  return parser.handler().Finish();
}

}  // namespace cms::upstream::detail
