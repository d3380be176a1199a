// File: api/parse_completion_request.hpp
//
// ParseCompletionRequest: turns the body of POST /v1/completions[/stream] into a validated
// core::CompletionRequest with every default applied, or into the full list of problems
// (CONTRACT.md section 3), in pydantic v2's types, locations, messages and order:
// fields in the order messages, system, model, max_tokens, temperature, cache_system;
// within a message, role then content. Malformed JSON is a single json_invalid issue.
//
// Example:
//   const RequestLimits limits{"claude-sonnet-4-6", 1024, 8096};
//   auto parsed = ParseCompletionRequest(body, limits);
//   if (!parsed) return ValidationErrorReply(parsed.error(), request_id);  // 422
//   core::CompletionRequest request = std::move(*parsed);
//
// (boost::system::result::error() returns the vector by value: bind it to a value, never
// to a reference, if it is kept beyond one expression.)
//
// Thread safety: pure function. Cost: one strict parse of the body, plus one code point
// count per string whose byte length alone cannot settle its length rule. Kept strings
// are unescaped once into std::string and moved into the result, never copied again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "api/validation_issue.hpp"
#include "core/completion.hpp"

namespace cms::api {

// The configured values the rules depend on (CONTRACT.md section 9).
struct RequestLimits {
  std::string default_model;               // DEFAULT_MODEL: used when model is absent or null.
  std::int64_t default_max_tokens = 1024;  // DEFAULT_MAX_TOKENS: used when max_tokens is absent.
  std::int64_t max_tokens_limit = 8096;    // MAX_TOKENS_LIMIT: the largest max_tokens accepted.
};

inline constexpr std::size_t kMinMessages = 1;
inline constexpr std::size_t kMaxMessages = 50;
inline constexpr std::size_t kMaxContentCharacters = 32'000;
inline constexpr std::size_t kMaxSystemCharacters = 100'000;

using CompletionRequestResult =
    boost::system::result<core::CompletionRequest, std::vector<ValidationIssue>>;

// The validated request, or every issue found (never an empty list). Unknown fields are
// ignored; for duplicate keys the last occurrence counts. An empty `system` string counts
// as no system prompt (as the reference service's `if request.system:` did), so the
// result never holds an empty system. A temperature of -0.0 is stored as 0.0.
[[nodiscard]] CompletionRequestResult ParseCompletionRequest(std::string_view body,
                                                             const RequestLimits& limits);

}  // namespace cms::api
