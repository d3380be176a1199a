// File: simulator/sim_answer.hpp
//
// The simulator's deterministic "model": an answer computed from the request alone. The same
// request gives the same answer byte for byte (whether streamed or not, whatever max_tokens
// cuts); a different conversation gives a different one. The text opens with a sentence
// naming the last user message's length in characters and the request's hash, followed by
// 30-70 filler words drawn from a fixed list by a PRNG seeded with that hash (40-80 words in
// all), always with some multi-byte UTF-8 ("café", "naïve") so clients' UTF-8 handling is
// exercised.
//
// Tokens are words: output_tokens = words emitted; an answer longer than max_tokens words
// is cut there with stop_reason max_tokens. input_tokens = ceil(characters / 4), at least 1,
// where the cached system prefix (if any) is reported as cache creation or cache read
// instead (docs/anthropic-api.md §2 usage semantics).
//
// Pure functions and values; safe from any thread (PromptCacheTracker synchronises itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/sim_prompt_cache.hpp"
#include "simulator/sim_request.hpp"

namespace cms::simulator {

enum class StopReason { kEndTurn, kMaxTokens };

// "end_turn" or "max_tokens".
[[nodiscard]] std::string_view StopReasonName(StopReason reason);

struct SimUsage {
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;
  std::int64_t cache_creation_input_tokens = 0;
  std::int64_t cache_read_input_tokens = 0;
  // The split of cache_creation_input_tokens by cache_control.ttl (they sum to it).
  std::int64_t ephemeral_5m_input_tokens = 0;
  std::int64_t ephemeral_1h_input_tokens = 0;
};

struct SimAnswer {
  std::string text;
  // Byte offset in `text` where each emitted word begins, its leading space included, so
  // text[word_starts[i], word_starts[i+1]) is word i as a delta carries it. One per
  // output token.
  std::vector<std::size_t> word_starts;
  StopReason stop_reason = StopReason::kEndTurn;
  SimUsage usage;
};

// Unicode code points in valid UTF-8 `text` (continuation bytes are not counted).
[[nodiscard]] std::size_t CountCodePoints(std::string_view text);

// Hash of everything that decides the answer's text: model, temperature, system, roles and
// contents. Not max_tokens (it only cuts) nor stream.
[[nodiscard]] std::uint64_t RequestHash(const SimRequest& request);

// Records the request's cacheable system prefix in `tracker` and says whether this was a
// cache write or read; kNone (tracker untouched) when no system block carries cache_control.
[[nodiscard]] PromptCacheUse TouchPromptCache(const SimRequest& request,
                                              PromptCacheTracker& tracker);

// The answer to `request`, its usage computed as if the prompt cache did `cache_use`.
[[nodiscard]] SimAnswer ComposeAnswer(const SimRequest& request, PromptCacheUse cache_use);

// The answer's text in deltas of `words_per_delta` words (0 is taken as 1); the views point
// into answer.text and concatenate to it exactly.
[[nodiscard]] std::vector<std::string_view> SplitIntoDeltas(const SimAnswer& answer,
                                                            std::size_t words_per_delta);

}  // namespace cms::simulator
