#include "api/request_document.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/throw_exception.hpp>

namespace cms::api {
namespace {

using boost::system::error_code;
using JsonStringView = boost::json::string_view;

// What a container keeps of its children.
enum class Keep {
  kNothing,        // Only its kind and element count.
  kRequestFields,  // The top-level object: the request's known members.
  kMessageItems,   // "messages": its first kMaxRetainedMessages items.
  kMessageFields,  // One message object: role and content.
};

constexpr std::array<std::string_view, 6> kRequestFieldNames = {
    kMessagesField,  kSystemField,      kModelField,
    kMaxTokensField, kTemperatureField, kCacheSystemField};
constexpr std::array<std::string_view, 2> kMessageFieldNames = {kRoleField, kContentField};

// No wanted key is longer; a longer key is unwanted, so it need not be buffered whole.
constexpr std::size_t kMaxWantedKeyBytes = 16;

template <std::size_t N>
bool Contains(const std::array<std::string_view, N>& names, std::string_view key) {
  return std::find(names.begin(), names.end(), key) != names.end();
}

// A boost::json::basic_parser handler building the pruned tree. Values at positions that
// are not kept get a null slot and are only checked for syntax.
class DocumentBuilder {
 public:
  JsonNode TakeRoot() { return std::move(root_); }

  // The names below are fixed by Boost.JSON's basic_parser handler concept.
  // NOLINTBEGIN(readability-identifier-naming)
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) { return Open(JsonKind::kObject); }
  bool on_object_end(std::size_t n, error_code&) { return Close(n); }
  bool on_array_begin(error_code&) { return Open(JsonKind::kArray); }
  bool on_array_end(std::size_t n, error_code&) { return Close(n); }

  bool on_key_part(JsonStringView part, std::size_t, error_code&) { return AppendKey(part); }
  bool on_key(JsonStringView part, std::size_t, error_code&) { return AppendKey(part); }

  bool on_string_part(JsonStringView part, std::size_t, error_code&) { return AppendString(part); }
  bool on_string(JsonStringView part, std::size_t, error_code&) {
    AppendString(part);
    in_string_ = false;
    return true;
  }

  bool on_number_part(JsonStringView, error_code&) { return true; }
  bool on_int64(std::int64_t value, JsonStringView, error_code&) {
    if (JsonNode* slot = BeginValue()) {
      slot->kind = JsonKind::kInt64;
      slot->int64 = value;
    }
    return true;
  }
  bool on_uint64(std::uint64_t value, JsonStringView, error_code&) {
    if (JsonNode* slot = BeginValue()) {
      slot->kind = JsonKind::kUint64;
      slot->uint64 = value;
    }
    return true;
  }
  bool on_double(double value, JsonStringView, error_code&) {
    if (JsonNode* slot = BeginValue()) {
      slot->kind = JsonKind::kDouble;
      slot->number = value;
    }
    return true;
  }
  bool on_bool(bool value, error_code&) {
    if (JsonNode* slot = BeginValue()) {
      slot->kind = JsonKind::kBool;
      slot->boolean = value;
    }
    return true;
  }
  bool on_null(error_code&) {
    if (JsonNode* slot = BeginValue()) slot->kind = JsonKind::kNull;
    return true;
  }

  // Comments are disabled in the parse options; these only satisfy the handler concept.
  bool on_comment_part(JsonStringView, error_code&) { return true; }
  bool on_comment(JsonStringView, error_code&) { return true; }
  // NOLINTEND(readability-identifier-naming)

 private:
  struct Frame {
    JsonNode* node;  // nullptr: this container is not kept at all.
    Keep keep;
    std::string key;  // Object frames: the pending member's key (only when wanted).
    bool key_too_long = false;
  };

  // What the container about to open at the current position keeps. Reads the pending
  // key, so it must run before BeginValue() consumes it.
  [[nodiscard]] Keep ChildKeep(JsonKind kind) const {
    if (stack_.empty()) return kind == JsonKind::kObject ? Keep::kRequestFields : Keep::kNothing;
    const Frame& parent = stack_.back();
    if (parent.keep == Keep::kRequestFields && kind == JsonKind::kArray &&
        parent.key == kMessagesField) {
      return Keep::kMessageItems;
    }
    if (parent.keep == Keep::kMessageItems && kind == JsonKind::kObject) {
      return Keep::kMessageFields;
    }
    return Keep::kNothing;
  }

  // The node a value starting now is stored in, or nullptr when it is dropped.
  JsonNode* BeginValue() {
    if (stack_.empty()) return &root_;
    Frame& parent = stack_.back();
    if (parent.keep == Keep::kNothing) return nullptr;
    if (parent.node->kind == JsonKind::kArray) {
      if (parent.node->items.size() >= kMaxRetainedMessages) return nullptr;
      return &parent.node->items.emplace_back();
    }
    const bool wanted = !parent.key_too_long && IsWantedKey(parent.keep, parent.key);
    JsonNode* slot = nullptr;
    if (wanted) {
      if (JsonNode* previous = parent.node->Find(parent.key)) {
        *previous = JsonNode{};  // A duplicate key: the last occurrence wins.
        slot = previous;
      } else {
        slot = &parent.node->members.emplace_back(JsonMember{std::move(parent.key), {}}).value;
      }
    }
    parent.key.clear();
    parent.key_too_long = false;
    return slot;
  }

  static bool IsWantedKey(Keep keep, std::string_view key) {
    if (keep == Keep::kRequestFields) return Contains(kRequestFieldNames, key);
    if (keep == Keep::kMessageFields) return Contains(kMessageFieldNames, key);
    return false;
  }

  bool Open(JsonKind kind) {
    const Keep keep = ChildKeep(kind);
    JsonNode* slot = BeginValue();
    if (slot != nullptr) {
      slot->kind = kind;
      if (keep == Keep::kMessageItems) slot->items.reserve(kMaxRetainedMessages);
    }
    stack_.push_back(Frame{slot, slot != nullptr ? keep : Keep::kNothing, {}});
    return true;
  }

  bool Close(std::size_t element_count) {
    if (stack_.back().node != nullptr) stack_.back().node->size = element_count;
    stack_.pop_back();
    return true;
  }

  bool AppendKey(JsonStringView part) {
    Frame& frame = stack_.back();
    if (frame.keep == Keep::kNothing || frame.key_too_long) return true;
    if (frame.key.size() + part.size() > kMaxWantedKeyBytes) {
      frame.key_too_long = true;
      frame.key.clear();
      return true;
    }
    frame.key.append(part.data(), part.size());
    return true;
  }

  bool AppendString(JsonStringView part) {
    if (!in_string_) {
      in_string_ = true;
      string_slot_ = BeginValue();
      if (string_slot_ != nullptr) string_slot_->kind = JsonKind::kString;
    }
    // A top-level string is a model_type error whatever it says: keep its kind only.
    if (string_slot_ != nullptr && !stack_.empty()) {
      string_slot_->string.append(part.data(), part.size());
    }
    return true;
  }

  JsonNode root_;
  std::vector<Frame> stack_;
  JsonNode* string_slot_ = nullptr;  // Where the string being parsed goes, if kept.
  bool in_string_ = false;
};

boost::json::parse_options StrictOptions() {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;
  return options;
}

}  // namespace

JsonNode* JsonNode::Find(std::string_view key) {
  for (JsonMember& member : members) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

void throw_exception_from_error(const JsonSyntaxError& error,
                                const boost::source_location& location) {
  boost::throw_exception(
      std::invalid_argument("invalid JSON at byte " + std::to_string(error.offset) + ": " +
                            error.reason.message()),
      location);
}

boost::system::result<JsonNode, JsonSyntaxError> ParseRequestDocument(std::string_view body) {
  boost::json::basic_parser<DocumentBuilder> parser(StrictOptions());
  error_code ec;
  // more=false: the body is complete, so a truncated value is an error here, not a wait.
  const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  if (ec) return JsonSyntaxError{consumed, ec};
  if (consumed != body.size()) {
    // The value ended (trailing whitespace consumed) and something else follows.
    return JsonSyntaxError{consumed, boost::json::make_error_code(boost::json::error::extra_data)};
  }
  return parser.handler().TakeRoot();
}

}  // namespace cms::api
