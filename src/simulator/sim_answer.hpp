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
// Bulk answers (`[[simulate:bulk:<bytes>]]`, sim_faults.hpp) are different: exactly <bytes>
// bytes of filler words (no opening sentence), produced delta by delta by BulkText so the
// simulator never holds a streamed one whole, and NOT cut by max_tokens (they exist to push
// more bytes through a client than any socket buffer holds). stop_reason is end_turn and
// output_tokens the words emitted, as for any answer.
//
// Pure functions and values; safe from any thread (PromptCacheTracker synchronises itself;
// a BulkText belongs to one request).
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
  // output token; empty for a bulk answer (ComposeBulkAnswer), whose index would cost more
  // memory than its text.
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

// Bytes of text per bulk delta (the last one may be shorter).
inline constexpr std::size_t kBulkDeltaBytes = 16 * 1024;

// The text of a bulk answer, one delta at a time: words drawn from the filler list by a PRNG
// seeded with the request's hash (so the same request gives the same text), separated by
// spaces. Each delta is exactly min(kBulkDeltaBytes, bytes left) bytes and ends on a word
// boundary, so every delta is valid UTF-8 on its own; the few bytes a delta cannot fill with
// a whole word are '.' after its last word.
class BulkText {
 public:
  BulkText(std::uint64_t seed, std::uint64_t total_bytes);

  [[nodiscard]] bool Done() const { return emitted_bytes_ >= total_bytes_; }
  // The next delta; valid until the next call. REQUIRES: !Done().
  [[nodiscard]] std::string_view Next();
  // Words in the deltas returned so far (the output tokens).
  [[nodiscard]] std::uint64_t Words() const { return words_; }
  [[nodiscard]] std::uint64_t EmittedBytes() const { return emitted_bytes_; }

 private:
  std::uint64_t random_state_;
  const std::uint64_t total_bytes_;
  std::uint64_t emitted_bytes_ = 0;
  std::uint64_t words_ = 0;
  std::string delta_;
};

// A bulk answer's usage once `words` words were emitted (at least 1 output token), with the
// input side as ComposeAnswer computes it.
[[nodiscard]] SimUsage BulkUsage(const SimRequest& request, PromptCacheUse cache_use,
                                 std::uint64_t words);

// A whole bulk answer of `bytes` bytes (for non-streamed requests): text, end_turn and usage;
// word_starts stays empty.
[[nodiscard]] SimAnswer ComposeBulkAnswer(const SimRequest& request, PromptCacheUse cache_use,
                                          std::uint64_t bytes);

}  // namespace cms::simulator
