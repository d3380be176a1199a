// File: upstream/wire_dom.cpp
#include "upstream/wire_dom.hpp"

#include <limits>

namespace cms::upstream::dom {

namespace json = boost::json;

bool ReadOptionalString(const json::object& object, std::string_view key, std::string& out) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return true;
  const json::string* text = value->if_string();
  if (text == nullptr) return false;
  out.assign(text->data(), text->size());
  return true;
}

bool ReadOptionalCounter(const json::object& object, std::string_view key, std::int64_t& out) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return true;
  if (const std::int64_t* number = value->if_int64()) {
    out = *number;
    return true;
  }
  if (const std::uint64_t* number = value->if_uint64()) {
    if (*number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return false;
    }
    out = static_cast<std::int64_t>(*number);
    return true;
  }
  return false;
}

bool MergeUsage(const json::value* usage_value, core::Usage& usage) {
  if (usage_value == nullptr || usage_value->is_null()) return true;
  const json::object* object = usage_value->if_object();
  if (object == nullptr) return false;
  return ReadOptionalCounter(*object, "input_tokens", usage.input_tokens) &&
         ReadOptionalCounter(*object, "output_tokens", usage.output_tokens) &&
         ReadOptionalCounter(*object, "cache_creation_input_tokens",
                             usage.cache_creation_input_tokens) &&
         ReadOptionalCounter(*object, "cache_read_input_tokens", usage.cache_read_input_tokens);
}

bool AppendTextBlock(const json::value& block_value, std::string& out) {
  const json::object* block = block_value.if_object();
  if (block == nullptr) return false;
  const json::value* type = block->if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "text") return true;
  const json::value* text = block->if_contains("text");
  if (text == nullptr || !text->is_string()) return false;
  out.append(text->get_string().data(), text->get_string().size());
  return true;
}

}  // namespace cms::upstream::dom
