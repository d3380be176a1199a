#include "api/parse_completion_request.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include "api/request_document.hpp"
#include "api/utf8.hpp"

namespace cms::api {
namespace {

using Issues = std::vector<ValidationIssue>;
using Loc = std::vector<LocItem>;

// pydantic v2's messages for the error types we use.
constexpr std::string_view kMsgJsonInvalid = "JSON decode error";
constexpr std::string_view kMsgModelType =
    "Input should be a valid dictionary or object to extract fields from";
constexpr std::string_view kMsgMissing = "Field required";
constexpr std::string_view kMsgListType = "Input should be a valid list";
constexpr std::string_view kMsgRoleLiteral = "Input should be 'user' or 'assistant'";
constexpr std::string_view kMsgStringType = "Input should be a valid string";
constexpr std::string_view kMsgIntType = "Input should be a valid integer";
constexpr std::string_view kMsgIntFromFloat =
    "Input should be a valid integer, got a number with a fractional part";
constexpr std::string_view kMsgFiniteNumber = "Input should be a finite number";
constexpr std::string_view kMsgFloatType = "Input should be a valid number";
constexpr std::string_view kMsgBoolType = "Input should be a valid boolean";
constexpr std::string_view kMsgLastMessageRole =
    "Value error, the last message must have role 'user'";

std::string Decimal(std::int64_t value) {
  char digits[24];
  return std::string(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

std::string Decimal(std::size_t value) {
  char digits[24];
  return std::string(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

Loc FieldLoc(std::string_view field) { return Loc{std::string("body"), std::string(field)}; }

Loc MessageLoc(std::size_t index) {
  return Loc{std::string("body"), std::string(kMessagesField), static_cast<std::int64_t>(index)};
}

Loc MessageFieldLoc(std::size_t index, std::string_view field) {
  Loc loc = MessageLoc(index);
  loc.emplace_back(std::string(field));
  return loc;
}

void Report(Issues& issues, std::string_view type, Loc loc, std::string_view msg) {
  issues.push_back(ValidationIssue{std::string(type), std::move(loc), std::string(msg)});
}

bool IsNullOrAbsent(const JsonNode* node) {
  return node == nullptr || node->kind == JsonKind::kNull;
}

// pydantic's min_length/max_length for str, in code points. A string has at most as many
// code points as bytes, so short strings are settled by their size alone. Returns false
// when an issue was reported. `make_loc` builds the issue's location, only when there is an
// issue: a valid request allocates none.
template <class MakeLoc>
bool CheckStringLength(const std::string& text, std::size_t min_chars, std::size_t max_chars,
                       const MakeLoc& make_loc, Issues& issues) {
  // The strict parser has validated the UTF-8 already, so counting needs no decoding.
  const std::size_t chars =
      text.size() > max_chars ? CountCodePointsOfValidUtf8(text) : text.size();
  if (chars < min_chars) {
    Report(issues, "string_too_short", make_loc(),
           "String should have at least " + Decimal(min_chars) +
               (min_chars == 1 ? " character" : " characters"));
    return false;
  }
  if (chars > max_chars) {
    Report(issues, "string_too_long", make_loc(),
           "String should have at most " + Decimal(max_chars) +
               (max_chars == 1 ? " character" : " characters"));
    return false;
  }
  return true;
}

std::optional<core::Role> ParseRole(const JsonNode* node) {
  if (node == nullptr || node->kind != JsonKind::kString) return std::nullopt;
  if (node->string == core::RoleName(core::Role::kUser)) return core::Role::kUser;
  if (node->string == core::RoleName(core::Role::kAssistant)) return core::Role::kAssistant;
  return std::nullopt;
}

// One item of "messages"; std::nullopt when it has issues (reported).
std::optional<core::Message> ValidateMessage(JsonNode& item, std::size_t index, Issues& issues) {
  if (item.kind != JsonKind::kObject) {
    Report(issues, "model_type", MessageLoc(index), kMsgModelType);
    return std::nullopt;
  }
  bool valid = true;
  JsonNode* role_node = item.Find(kRoleField);
  const std::optional<core::Role> role = ParseRole(role_node);
  if (role_node == nullptr) {
    Report(issues, "missing", MessageFieldLoc(index, kRoleField), kMsgMissing);
    valid = false;
  } else if (!role) {
    Report(issues, "literal_error", MessageFieldLoc(index, kRoleField), kMsgRoleLiteral);
    valid = false;
  }
  JsonNode* content = item.Find(kContentField);
  if (content == nullptr) {
    Report(issues, "missing", MessageFieldLoc(index, kContentField), kMsgMissing);
    valid = false;
  } else if (content->kind != JsonKind::kString) {
    Report(issues, "string_type", MessageFieldLoc(index, kContentField), kMsgStringType);
    valid = false;
  } else if (!CheckStringLength(
                 content->string, 1, kMaxContentCharacters,
                 [index] { return MessageFieldLoc(index, kContentField); }, issues)) {
    valid = false;
  }
  if (!valid) return std::nullopt;
  return core::Message{*role, std::move(content->string)};
}

std::vector<core::Message> ValidateMessages(JsonNode* node, Issues& issues) {
  std::vector<core::Message> messages;
  if (node == nullptr) {
    Report(issues, "missing", FieldLoc(kMessagesField), kMsgMissing);
    return messages;
  }
  if (node->kind != JsonKind::kArray) {
    Report(issues, "list_type", FieldLoc(kMessagesField), kMsgListType);
    return messages;
  }
  if (node->size < kMinMessages) {
    Report(issues, "too_short", FieldLoc(kMessagesField),
           "List should have at least " + Decimal(kMinMessages) + " item after validation, not " +
               Decimal(node->size));
    return messages;
  }
  if (node->size > kMaxMessages) {
    // pydantic stops at the length check: the items of an over-long list are not reported.
    Report(issues, "too_long", FieldLoc(kMessagesField),
           "List should have at most " + Decimal(kMaxMessages) + " items after validation, not " +
               Decimal(node->size));
    return messages;
  }
  messages.reserve(node->items.size());
  bool all_valid = true;
  for (std::size_t i = 0; i < node->items.size(); ++i) {
    std::optional<core::Message> message = ValidateMessage(node->items[i], i, issues);
    if (message) {
      messages.push_back(std::move(*message));
    } else {
      all_valid = false;
    }
  }
  // Like a pydantic field_validator, the role rule runs only on a list whose items passed.
  if (all_valid && messages.back().role != core::Role::kUser) {
    Report(issues, "value_error", FieldLoc(kMessagesField), kMsgLastMessageRole);
  }
  return messages;
}

std::optional<std::string> ValidateSystem(JsonNode* node, Issues& issues) {
  if (IsNullOrAbsent(node)) return std::nullopt;
  if (node->kind != JsonKind::kString) {
    Report(issues, "string_type", FieldLoc(kSystemField), kMsgStringType);
    return std::nullopt;
  }
  if (!CheckStringLength(
          node->string, 0, kMaxSystemCharacters, [] { return FieldLoc(kSystemField); }, issues)) {
    return std::nullopt;
  }
  if (node->string.empty()) return std::nullopt;
  return std::move(node->string);
}

std::string ValidateModel(JsonNode* node, const std::string& default_model, Issues& issues) {
  if (IsNullOrAbsent(node)) return default_model;
  if (node->kind != JsonKind::kString) {
    Report(issues, "string_type", FieldLoc(kModelField), kMsgStringType);
    return {};
  }
  if (node->string.empty()) {
    Report(issues, "string_too_short", FieldLoc(kModelField),
           "String should have at least 1 character");
    return {};
  }
  return std::move(node->string);
}

// pydantic's int with ge=1, le=limit: integers, or floats with no fractional part (5.0).
// Every comparison happens in the number's own type, so 2^64 or 1e300 are simply too big.
std::int64_t ValidateMaxTokens(JsonNode* node, const RequestLimits& limits, Issues& issues) {
  if (node == nullptr) return limits.default_max_tokens;
  const Loc loc = FieldLoc(kMaxTokensField);
  const std::string too_big_msg =
      "Input should be less than or equal to " + Decimal(limits.max_tokens_limit);
  constexpr std::string_view kTooSmallMsg = "Input should be greater than or equal to 1";
  switch (node->kind) {
    case JsonKind::kInt64:
      if (node->int64 < 1) {
        Report(issues, "greater_than_equal", loc, kTooSmallMsg);
      } else if (node->int64 > limits.max_tokens_limit) {
        Report(issues, "less_than_equal", loc, too_big_msg);
      }
      return node->int64;
    case JsonKind::kUint64:  // Only values above INT64_MAX are kUint64.
      Report(issues, "less_than_equal", loc, too_big_msg);
      return 0;
    case JsonKind::kDouble: {
      const double value = node->number;
      if (!std::isfinite(value)) {
        Report(issues, "finite_number", loc, kMsgFiniteNumber);
      } else if (std::trunc(value) != value) {
        Report(issues, "int_from_float", loc, kMsgIntFromFloat);
      } else if (value < 1.0) {
        Report(issues, "greater_than_equal", loc, kTooSmallMsg);
      } else if (value > static_cast<double>(limits.max_tokens_limit)) {
        Report(issues, "less_than_equal", loc, too_big_msg);
      } else {
        // In [1, limit]: exactly representable as int64.
        return static_cast<std::int64_t>(value);
      }
      return 0;
    }
    default:
      Report(issues, "int_type", loc, kMsgIntType);
      return 0;
  }
}

std::optional<double> NumberValue(const JsonNode& node) {
  switch (node.kind) {
    case JsonKind::kInt64:
      return static_cast<double>(node.int64);
    case JsonKind::kUint64:
      return static_cast<double>(node.uint64);
    case JsonKind::kDouble:
      return node.number;
    default:
      return std::nullopt;
  }
}

std::optional<double> ValidateTemperature(JsonNode* node, Issues& issues) {
  if (IsNullOrAbsent(node)) return std::nullopt;
  const Loc loc = FieldLoc(kTemperatureField);
  const std::optional<double> value = NumberValue(*node);
  if (!value) {
    Report(issues, "float_type", loc, kMsgFloatType);
    return std::nullopt;
  }
  if (!(*value >= 0.0)) {
    Report(issues, "greater_than_equal", loc, "Input should be greater than or equal to 0");
    return std::nullopt;
  }
  if (*value > 1.0) {
    Report(issues, "less_than_equal", loc, "Input should be less than or equal to 1");
    return std::nullopt;
  }
  // Adding +0.0 turns -0.0 into 0.0: equal requests must be equal field by field.
  return *value + 0.0;
}

bool ValidateCacheSystem(const JsonNode* node, Issues& issues) {
  if (node == nullptr) return false;
  if (node->kind != JsonKind::kBool) {
    Report(issues, "bool_type", FieldLoc(kCacheSystemField), kMsgBoolType);
    return false;
  }
  return node->boolean;
}

}  // namespace

CompletionRequestResult ParseCompletionRequest(std::string_view body, const RequestLimits& limits) {
  auto parsed = ParseRequestDocument(body);
  if (!parsed) {
    Issues issues;
    Report(issues, "json_invalid",
           Loc{std::string("body"), static_cast<std::int64_t>(parsed.error().offset)},
           kMsgJsonInvalid);
    return {boost::system::in_place_error, std::move(issues)};
  }
  JsonNode& root = *parsed;
  if (root.kind != JsonKind::kObject) {
    Issues issues;
    Report(issues, "model_type", Loc{std::string("body")}, kMsgModelType);
    return {boost::system::in_place_error, std::move(issues)};
  }

  Issues issues;
  core::CompletionRequest request;
  request.messages = ValidateMessages(root.Find(kMessagesField), issues);
  request.system = ValidateSystem(root.Find(kSystemField), issues);
  request.model = ValidateModel(root.Find(kModelField), limits.default_model, issues);
  request.max_tokens = ValidateMaxTokens(root.Find(kMaxTokensField), limits, issues);
  request.temperature = ValidateTemperature(root.Find(kTemperatureField), issues);
  request.cache_system = ValidateCacheSystem(root.Find(kCacheSystemField), issues);
  if (!issues.empty()) return {boost::system::in_place_error, std::move(issues)};
  return {boost::system::in_place_value, std::move(request)};
}

}  // namespace cms::api
