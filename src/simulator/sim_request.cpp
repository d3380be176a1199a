#include "simulator/sim_request.hpp"

#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace cms::simulator {

namespace {

namespace json = boost::json;

ApiError Invalid(std::string path, std::string_view problem) {
  path.append(": ");
  path.append(problem);
  return ApiError{ApiErrorKind::kInvalidRequest, std::move(path)};
}

std::string IndexedPath(std::string_view parent, std::size_t index, std::string_view child = {}) {
  std::string path{parent};
  path.push_back('.');
  path.append(std::to_string(index));
  if (!child.empty()) {
    path.push_back('.');
    path.append(child);
  }
  return path;
}

// The `ttl` of a `cache_control` object: "1h" selects the hour bucket, anything else the
// default five minutes (the real API rejects unknown ttls; the simulator is lenient there).
CacheTtl TtlOf(const json::value& cache_control) {
  if (const auto* object = cache_control.if_object()) {
    if (const auto* ttl = object->if_contains("ttl");
        ttl != nullptr && ttl->is_string() && ttl->get_string() == "1h") {
      return CacheTtl::k1h;
    }
  }
  return CacheTtl::k5m;
}

// Appends the text of `blocks` (an array of text blocks) to `out`. Reports through
// `on_cache_control` the length of `out` after each block that carries `cache_control`.
template <class OnCacheControl>
std::optional<ApiError> AppendTextBlocks(const json::array& blocks, std::string_view path,
                                         std::string& out, OnCacheControl on_cache_control) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto* block = blocks[i].if_object();
    if (block == nullptr) return Invalid(IndexedPath(path, i), "Input should be an object");
    const auto* type = block->if_contains("type");
    if (type == nullptr) return Invalid(IndexedPath(path, i, "type"), "Field required");
    if (!type->is_string() || type->get_string() != "text") {
      return Invalid(IndexedPath(path, i, "type"),
                     "only text blocks are supported by the simulator");
    }
    const auto* text = block->if_contains("text");
    if (text == nullptr) return Invalid(IndexedPath(path, i, "text"), "Field required");
    if (!text->is_string()) {
      return Invalid(IndexedPath(path, i, "text"), "Input should be a valid string");
    }
    out.append(text->get_string());
    if (const auto* cache_control = block->if_contains("cache_control");
        cache_control != nullptr && !cache_control->is_null()) {
      on_cache_control(out.size(), *cache_control);
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ParseModel(const json::object& body, SimRequest& request) {
  const auto* model = body.if_contains("model");
  if (model == nullptr) return Invalid("model", "Field required");
  if (!model->is_string()) return Invalid("model", "Input should be a valid string");
  if (model->get_string().empty())
    return Invalid("model", "String should have at least 1 character");
  request.model = model->get_string();
  return std::nullopt;
}

std::optional<ApiError> ParseMaxTokens(const json::object& body, SimRequest& request) {
  const auto* max_tokens = body.if_contains("max_tokens");
  if (max_tokens == nullptr) return Invalid("max_tokens", "Field required");
  std::int64_t value = 0;
  if (const auto* i = max_tokens->if_int64()) {
    value = *i;
  } else if (max_tokens->is_uint64()) {
    // Boost.JSON stores only integers above int64's range as uint64: huge, but valid.
    value = std::numeric_limits<std::int64_t>::max();
  } else if (const auto* d = max_tokens->if_double();
             d != nullptr && std::isfinite(*d) && std::trunc(*d) == *d && std::abs(*d) < 9e18) {
    value = static_cast<std::int64_t>(*d);  // An integral float such as 5.0.
  } else {
    return Invalid("max_tokens", "Input should be a valid integer");
  }
  if (value < 1) return Invalid("max_tokens", "Input should be greater than or equal to 1");
  request.max_tokens = value;
  return std::nullopt;
}

std::optional<ApiError> ParseMessage(const json::value& item, std::size_t index, bool is_last,
                                     SimRequest& request) {
  const auto* message = item.if_object();
  if (message == nullptr)
    return Invalid(IndexedPath("messages", index), "Input should be an object");
  SimMessage parsed;
  const auto* role = message->if_contains("role");
  if (role == nullptr) return Invalid(IndexedPath("messages", index, "role"), "Field required");
  if (role->is_string() && role->get_string() == "user") {
    parsed.role = SimRole::kUser;
  } else if (role->is_string() && role->get_string() == "assistant") {
    parsed.role = SimRole::kAssistant;
  } else {
    return Invalid(IndexedPath("messages", index, "role"), "Input should be 'user' or 'assistant'");
  }
  const auto* content = message->if_contains("content");
  const std::string content_path = IndexedPath("messages", index, "content");
  if (content == nullptr) return Invalid(content_path, "Field required");
  if (content->is_string()) {
    parsed.text = content->get_string();
  } else if (content->is_array()) {
    if (auto error = AppendTextBlocks(content->get_array(), content_path, parsed.text,
                                      [](std::size_t, const json::value&) {})) {
      return error;
    }
  } else {
    return Invalid(content_path, "Input should be a valid string or a list of content blocks");
  }
  // The real API accepts empty content only in a final assistant message (a prefill).
  if (parsed.text.empty() && !(is_last && parsed.role == SimRole::kAssistant)) {
    return Invalid(content_path,
                   "all messages must have non-empty content except for the optional final "
                   "assistant message");
  }
  request.messages.push_back(std::move(parsed));
  return std::nullopt;
}

std::optional<ApiError> ParseMessages(const json::object& body, SimRequest& request) {
  const auto* messages = body.if_contains("messages");
  if (messages == nullptr) return Invalid("messages", "Field required");
  const auto* array = messages->if_array();
  if (array == nullptr) return Invalid("messages", "Input should be a valid list");
  if (array->empty()) return Invalid("messages", "List should have at least 1 item");
  request.messages.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    if (auto error = ParseMessage((*array)[i], i, i + 1 == array->size(), request)) return error;
  }
  return std::nullopt;
}

std::optional<ApiError> ParseSystem(const json::object& body, SimRequest& request) {
  const auto* system = body.if_contains("system");
  if (system == nullptr || system->is_null()) return std::nullopt;
  if (system->is_string()) {
    request.system = system->get_string();
    return std::nullopt;
  }
  if (!system->is_array()) {
    return Invalid("system", "Input should be a valid string or a list of text blocks");
  }
  return AppendTextBlocks(system->get_array(), "system", request.system,
                          [&request](std::size_t end, const json::value& cache_control) {
                            request.cached_system_bytes = end;
                            request.cache_ttl = TtlOf(cache_control);
                          });
}

std::optional<ApiError> ParseTemperature(const json::object& body, SimRequest& request) {
  const auto* temperature = body.if_contains("temperature");
  if (temperature == nullptr || temperature->is_null()) return std::nullopt;
  if (!temperature->is_number()) return Invalid("temperature", "Input should be a valid number");
  const double value = temperature->to_number<double>();
  if (value < 0.0) return Invalid("temperature", "Input should be greater than or equal to 0");
  if (value > 1.0) return Invalid("temperature", "Input should be less than or equal to 1");
  request.temperature = value;
  return std::nullopt;
}

std::optional<ApiError> ParseStream(const json::object& body, SimRequest& request) {
  const auto* stream = body.if_contains("stream");
  if (stream == nullptr || stream->is_null()) return std::nullopt;
  if (!stream->is_bool()) return Invalid("stream", "Input should be a valid boolean");
  request.stream = stream->get_bool();
  return std::nullopt;
}

}  // namespace

boost::system::result<SimRequest, ApiError> ParseSimRequest(std::string_view body) {
  boost::system::error_code ec;
  const json::value document = json::parse(body, ec);
  if (ec) {
    return ApiError{ApiErrorKind::kInvalidRequest, "invalid JSON body: " + ec.message()};
  }
  const auto* object = document.if_object();
  if (object == nullptr) {
    return ApiError{ApiErrorKind::kInvalidRequest, "request body must be a JSON object"};
  }
  SimRequest request;
  // Checked in the real API's field order, so the first problem reported matches it.
  for (const auto parse : {&ParseModel, &ParseMaxTokens, &ParseMessages, &ParseSystem,
                           &ParseTemperature, &ParseStream}) {
    if (auto error = parse(*object, request)) return *std::move(error);
  }
  return request;
}

const SimMessage* LastUserMessage(const SimRequest& request) {
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == SimRole::kUser) return &*it;
  }
  return nullptr;
}

}  // namespace cms::simulator
