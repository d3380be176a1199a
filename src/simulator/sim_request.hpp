// File: simulator/sim_request.hpp
//
// SimRequest: the parts of an Anthropic Messages request body (docs/anthropic-api.md §1.2)
// that the simulator answers from, parsed and checked the way the real API checks them.
// Unknown fields are ignored, as the real API ignores fields it does not use here.
//
//   auto request = ParseSimRequest(body);
//   if (!request) return Refuse(request.error());  // 400 invalid_request_error, field named
//
// A failure is an ApiError of kind kInvalidRequest whose message starts with the field's
// path ("max_tokens: ...", "messages.0.content: ..."), or "invalid JSON body: ...".
// Pure functions and values; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "simulator/sim_error.hpp"

namespace cms::simulator {

enum class SimRole { kUser, kAssistant };

struct SimMessage {
  SimRole role = SimRole::kUser;
  std::string text;  // The string content, or every text block's text concatenated.
};

// How long a prompt-cache entry lives (`cache_control.ttl`), which decides the
// `usage.cache_creation` bucket it is reported in.
enum class CacheTtl { k5m, k1h };

struct SimRequest {
  std::string model;                 // Non-empty.
  std::int64_t max_tokens = 1;       // >= 1.
  std::vector<SimMessage> messages;  // Non-empty.
  std::string system;                // Every system text, concatenated ("" when none).
  // Length in bytes of the prefix of `system` up to and including the last block that
  // carries `cache_control` (the cache breakpoint); 0 when nothing is marked.
  std::size_t cached_system_bytes = 0;
  CacheTtl cache_ttl = CacheTtl::k5m;
  std::optional<double> temperature;  // 0.0 to 1.0 when given.
  bool stream = false;
};

// Parses and checks a request body. See the file comment for what a failure looks like.
[[nodiscard]] boost::system::result<SimRequest, ApiError> ParseSimRequest(std::string_view body);

// The last message with role user, or nullptr when there is none.
[[nodiscard]] const SimMessage* LastUserMessage(const SimRequest& request);

}  // namespace cms::simulator
