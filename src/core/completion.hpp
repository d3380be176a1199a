// File: core/completion.hpp
//
// The domain types every layer shares: a validated completion request (what the caller
// asked for, every default applied) and a completion (what the model answered). They are
// plain values with no behaviour; api/ builds requests from JSON, upstream/ turns them into
// the provider's wire format, cache/ stores completions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::core {

enum class Role { kUser, kAssistant };

// "user" or "assistant", as the contract and the Anthropic API spell them.
const char* RoleName(Role role);

struct Message {
  Role role = Role::kUser;
  std::string content;  // Valid UTF-8, 1 to 32,000 code points (api/ checks).
};

// A request that passed validation. Every default is applied, so two requests that mean
// the same thing are equal field by field (the cache key depends on that).
struct CompletionRequest {
  std::vector<Message> messages;      // 1 to 50, the last one from the user.
  std::optional<std::string> system;  // Absent when the caller sent none or null.
  std::string model;                  // Never empty: DEFAULT_MODEL when the caller sent none.
  std::int64_t max_tokens = 0;        // 1 to MAX_TOKENS_LIMIT.
  std::optional<double> temperature;  // Forwarded only when the caller gave one.
  bool cache_system = false;          // Mark the system prompt with cache_control.
};

// Token counts as the upstream reports them; absent counters are zero.
struct Usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_creation_input_tokens = 0;
  std::int64_t cache_read_input_tokens = 0;
};

// One finished answer.
struct Completion {
  std::string model;    // The model the upstream reports having used.
  std::string content;  // Every text block of the answer, concatenated.
  Usage usage;
  std::string stop_reason;  // e.g. "end_turn", "max_tokens"; empty if the upstream sent none.
};

}  // namespace cms::core
