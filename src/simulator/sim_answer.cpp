#include "simulator/sim_answer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "simulator/sim_json.hpp"

namespace cms::simulator {

namespace {

// Filler vocabulary. About one word in six is multi-byte UTF-8 (2-byte Latin, 3-byte
// CJK) so that clients splitting or counting text meet it often.
constexpr std::array<std::string_view, 64> kWords{
    "the",      "model",   "answers",    "with",    "simulated",   "words",  "that",   "carry",
    "no",       "meaning", "but",        "keep",    "a",           "steady", "rhythm", "for",
    "tests",    "and",     "benchmarks", "every",   "request",     "gets",   "its",    "own",
    "sequence", "drawn",   "from",       "this",    "fixed",       "list",   "so",     "clients",
    "can",      "compare", "streams",    "against", "completions", "byte",   "by",     "gateway",
    "cache",    "token",   "latency",    "budget",  "careful",     "reader", "quiet",  "river",
    "stone",    "lantern", "orchard",    "harbor",  "signal",      "ledger", "café",   "naïve",
    "résumé",   "façade",  "jalapeño",   "über",    "smörgåsbord", "crème",  "日本語", "piñata"};

constexpr std::array<std::string_view, 10> kMultiByteWords{
    "café", "naïve",       "résumé", "façade", "jalapeño",
    "über", "smörgåsbord", "crème",  "日本語", "piñata"};

constexpr std::size_t kMinFillerWords = 30;
constexpr std::size_t kFillerWordSpread = 41;  // 30 to 70 filler words.
constexpr std::size_t kMinSentenceWords = 6;
constexpr std::size_t kSentenceWordSpread = 7;  // Sentences of 6 to 12 words.
constexpr std::size_t kCharactersPerToken = 4;

// FNV-1a, 64 bits: fast, stable across platforms and runs (std::hash is neither promised).
class Fnv1a {
 public:
  void Add(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  void AddSeparator(char tag) {
    // A tag after each field keeps ("ab","c") and ("a","bc") apart.
    const char tagged[2] = {'\0', tag};
    Add(std::string_view(tagged, 2));
  }
  [[nodiscard]] std::uint64_t Value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// SplitMix64: a tiny, well-mixed PRNG whose sequence is fixed by its seed.
std::uint64_t SplitMix64Step(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() { return SplitMix64Step(state_); }
  std::size_t Below(std::size_t bound) { return static_cast<std::size_t>(Next() % bound); }

 private:
  std::uint64_t state_;
};

std::int64_t TokensFor(std::size_t characters) {
  return static_cast<std::int64_t>((characters + kCharactersPerToken - 1) / kCharactersPerToken);
}

// Builds the text word by word, recording where each word starts.
class TextBuilder {
 public:
  explicit TextBuilder(SimAnswer& answer) : answer_(answer) { answer_.text.reserve(640); }

  void Word(std::string_view word, bool capitalize = false, std::string_view suffix = {}) {
    answer_.word_starts.push_back(answer_.text.size());
    if (!answer_.text.empty()) answer_.text.push_back(' ');
    const std::size_t first = answer_.text.size();
    answer_.text.append(word);
    // ASCII only: a multi-byte first letter stays as it is.
    if (capitalize && answer_.text[first] >= 'a' && answer_.text[first] <= 'z') {
      answer_.text[first] = static_cast<char>(answer_.text[first] - 'a' + 'A');
    }
    answer_.text.append(suffix);
  }

 private:
  SimAnswer& answer_;
};

void ComposeText(const SimRequest& request, SimAnswer& answer) {
  const std::uint64_t hash = RequestHash(request);
  const SimMessage* last_user = LastUserMessage(request);
  const std::size_t characters = last_user == nullptr ? 0 : CountCodePoints(last_user->text);

  TextBuilder builder{answer};
  for (const std::string_view word : {"Simulated", "answer", "to", "a", "message", "of"}) {
    builder.Word(word);
  }
  builder.Word(std::to_string(characters));
  builder.Word("characters");
  builder.Word("(hash");
  std::string hash_word;
  AppendHex(hash_word, hash, 8);
  builder.Word(hash_word, false, ").");

  SplitMix64 random{hash};
  const std::size_t filler_words = kMinFillerWords + random.Below(kFillerWordSpread);
  const std::size_t multi_byte_at = random.Below(filler_words);
  std::size_t sentence_left = kMinSentenceWords + random.Below(kSentenceWordSpread);
  bool sentence_start = true;
  for (std::size_t i = 0; i < filler_words; ++i) {
    const std::string_view word = i == multi_byte_at
                                      ? kMultiByteWords[random.Below(kMultiByteWords.size())]
                                      : kWords[random.Below(kWords.size())];
    const bool ends_sentence = --sentence_left == 0 || i + 1 == filler_words;
    builder.Word(word, sentence_start, ends_sentence ? "." : "");
    sentence_start = ends_sentence;
    if (ends_sentence) sentence_left = kMinSentenceWords + random.Below(kSentenceWordSpread);
  }
}

void CutToMaxTokens(std::int64_t max_tokens, SimAnswer& answer) {
  const auto limit = static_cast<std::size_t>(std::max<std::int64_t>(max_tokens, 1));
  if (answer.word_starts.size() <= limit) {
    answer.stop_reason = StopReason::kEndTurn;
    return;
  }
  answer.text.resize(answer.word_starts[limit]);
  answer.word_starts.resize(limit);
  answer.stop_reason = StopReason::kMaxTokens;
}

SimUsage ComputeUsage(const SimRequest& request, PromptCacheUse cache_use,
                      std::size_t output_words) {
  std::size_t message_characters = 0;
  for (const SimMessage& message : request.messages) {
    message_characters += CountCodePoints(message.text);
  }
  const std::string_view system = request.system;
  const std::size_t cached_bytes =
      cache_use == PromptCacheUse::kNone ? 0 : std::min(request.cached_system_bytes, system.size());
  const std::size_t cached_characters = CountCodePoints(system.substr(0, cached_bytes));
  const std::size_t uncached_characters =
      message_characters + CountCodePoints(system.substr(cached_bytes));

  SimUsage usage;
  usage.output_tokens = static_cast<std::int64_t>(std::max<std::size_t>(output_words, 1));
  usage.input_tokens = std::max<std::int64_t>(TokensFor(uncached_characters), 1);
  const std::int64_t cached_tokens = cache_use == PromptCacheUse::kNone
                                         ? 0
                                         : std::max<std::int64_t>(TokensFor(cached_characters), 1);
  if (cache_use == PromptCacheUse::kCreated) {
    usage.cache_creation_input_tokens = cached_tokens;
    (request.cache_ttl == CacheTtl::k1h ? usage.ephemeral_1h_input_tokens
                                        : usage.ephemeral_5m_input_tokens) = cached_tokens;
  } else if (cache_use == PromptCacheUse::kRead) {
    usage.cache_read_input_tokens = cached_tokens;
  }
  return usage;
}

}  // namespace

BulkText::BulkText(std::uint64_t seed, std::uint64_t total_bytes)
    : random_state_(seed), total_bytes_(total_bytes) {
  delta_.reserve(kBulkDeltaBytes);
}

std::string_view BulkText::Next() {
  const auto size = static_cast<std::size_t>(
      std::min<std::uint64_t>(kBulkDeltaBytes, total_bytes_ - emitted_bytes_));
  delta_.clear();
  for (;;) {
    const std::string_view word =
        kWords[static_cast<std::size_t>(SplitMix64Step(random_state_) % kWords.size())];
    // Every word but the answer's first carries its leading space.
    const bool spaced = emitted_bytes_ + delta_.size() > 0;
    if (delta_.size() + word.size() + (spaced ? 1 : 0) > size) break;
    if (spaced) delta_.push_back(' ');
    delta_.append(word);
    ++words_;
  }
  delta_.append(size - delta_.size(), '.');
  emitted_bytes_ += delta_.size();
  return delta_;
}

SimUsage BulkUsage(const SimRequest& request, PromptCacheUse cache_use, std::uint64_t words) {
  return ComputeUsage(request, cache_use, static_cast<std::size_t>(words));
}

SimAnswer ComposeBulkAnswer(const SimRequest& request, PromptCacheUse cache_use,
                            std::uint64_t bytes) {
  SimAnswer answer;
  answer.text.reserve(static_cast<std::size_t>(bytes));
  BulkText source{RequestHash(request), bytes};
  while (!source.Done()) answer.text.append(source.Next());
  answer.stop_reason = StopReason::kEndTurn;
  answer.usage = BulkUsage(request, cache_use, source.Words());
  return answer;
}

std::string_view StopReasonName(StopReason reason) {
  return reason == StopReason::kMaxTokens ? "max_tokens" : "end_turn";
}

std::size_t CountCodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::uint64_t RequestHash(const SimRequest& request) {
  Fnv1a hash;
  hash.Add(request.model);
  hash.AddSeparator('m');
  if (request.temperature) {
    std::array<char, sizeof(double)> bytes{};
    std::memcpy(bytes.data(), &*request.temperature, sizeof(double));
    hash.Add(std::string_view(bytes.data(), bytes.size()));
  }
  hash.AddSeparator('t');
  hash.Add(request.system);
  hash.AddSeparator('s');
  for (const SimMessage& message : request.messages) {
    hash.Add(message.role == SimRole::kUser ? "u" : "a");
    hash.Add(message.text);
    hash.AddSeparator('c');
  }
  return hash.Value();
}

PromptCacheUse TouchPromptCache(const SimRequest& request, PromptCacheTracker& tracker) {
  if (request.cached_system_bytes == 0) return PromptCacheUse::kNone;
  Fnv1a hash;
  hash.Add(request.model);
  hash.AddSeparator('m');
  hash.Add(std::string_view(request.system).substr(0, request.cached_system_bytes));
  return tracker.Touch(hash.Value());
}

SimAnswer ComposeAnswer(const SimRequest& request, PromptCacheUse cache_use) {
  SimAnswer answer;
  ComposeText(request, answer);
  CutToMaxTokens(request.max_tokens, answer);
  answer.usage = ComputeUsage(request, cache_use, answer.word_starts.size());
  return answer;
}

std::vector<std::string_view> SplitIntoDeltas(const SimAnswer& answer,
                                              std::size_t words_per_delta) {
  const std::size_t step = std::max<std::size_t>(words_per_delta, 1);
  const std::string_view text = answer.text;
  std::vector<std::string_view> deltas;
  deltas.reserve(answer.word_starts.size() / step + 1);
  for (std::size_t word = 0; word < answer.word_starts.size(); word += step) {
    const std::size_t begin = answer.word_starts[word];
    const std::size_t end =
        word + step < answer.word_starts.size() ? answer.word_starts[word + step] : text.size();
    deltas.push_back(text.substr(begin, end - begin));
  }
  return deltas;
}

}  // namespace cms::simulator
