#include "simulator/sim_answer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace cms::simulator {
namespace {

SimRequest MakeRequest(std::string last_user_text, std::int64_t max_tokens = 1000) {
  SimRequest request;
  request.model = "claude-sonnet-4-6";
  request.max_tokens = max_tokens;
  request.messages = {{SimRole::kUser, "Earlier question"},
                      {SimRole::kAssistant, "Earlier answer"},
                      {SimRole::kUser, std::move(last_user_text)}};
  return request;
}

std::size_t CountWords(const std::string& text) {
  std::istringstream words{text};
  return static_cast<std::size_t>(std::distance(std::istream_iterator<std::string>(words),
                                                std::istream_iterator<std::string>()));
}

bool HasMultiByte(const std::string& text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

TEST(CountCodePointsTest, CountsCharactersNotBytes) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("café"), 4u);               // 2-byte é
  EXPECT_EQ(CountCodePoints("日本語"), 3u);             // 3 bytes each
  EXPECT_EQ(CountCodePoints("a\xF0\x9F\x98\x80"), 2u);  // an emoji is one character
}

TEST(ComposeAnswerTest, IsDeterministicByteForByte) {
  const SimAnswer first =
      ComposeAnswer(MakeRequest("What is the capital of France?"), PromptCacheUse::kNone);
  const SimAnswer second =
      ComposeAnswer(MakeRequest("What is the capital of France?"), PromptCacheUse::kNone);
  EXPECT_EQ(first.text, second.text);
  EXPECT_EQ(first.word_starts, second.word_starts);
  EXPECT_EQ(first.usage.input_tokens, second.usage.input_tokens);
}

TEST(ComposeAnswerTest, DiffersWhenTheLastUserMessageDiffers) {
  const SimAnswer a = ComposeAnswer(MakeRequest("Question one"), PromptCacheUse::kNone);
  const SimAnswer b = ComposeAnswer(MakeRequest("Question two"), PromptCacheUse::kNone);
  EXPECT_NE(a.text, b.text);
  EXPECT_NE(RequestHash(MakeRequest("Question one")), RequestHash(MakeRequest("Question two")));
}

TEST(ComposeAnswerTest, HashCoversModelSystemTemperatureAndRolesButNotMaxTokensOrStream) {
  const SimRequest base = MakeRequest("same");
  const std::uint64_t base_hash = RequestHash(base);
  SimRequest other_model = base;
  other_model.model = "claude-haiku-4-5";
  SimRequest other_system = base;
  other_system.system = "Be terse.";
  SimRequest other_temperature = base;
  other_temperature.temperature = 0.2;
  SimRequest other_role = base;
  other_role.messages[1].role = SimRole::kUser;
  SimRequest other_split = base;  // Same bytes, split differently between messages.
  other_split.messages[0].text = "Earlier questionE";
  other_split.messages[1].text = "arlier answer";
  for (const SimRequest* changed :
       {&other_model, &other_system, &other_temperature, &other_role, &other_split}) {
    EXPECT_NE(RequestHash(*changed), base_hash);
  }
  SimRequest streamed = base;
  streamed.stream = true;
  streamed.max_tokens = 3;
  EXPECT_EQ(RequestHash(streamed), base_hash);
}

TEST(ComposeAnswerTest, OpensWithTheLastUserMessageLengthAndHash) {
  const SimRequest request = MakeRequest("naïve café");  // 10 characters, 12 bytes.
  const SimAnswer answer = ComposeAnswer(request, PromptCacheUse::kNone);
  char hash_hex[9];
  std::snprintf(hash_hex, sizeof hash_hex, "%08llx",
                static_cast<unsigned long long>(RequestHash(request) & 0xFFFFFFFFULL));
  const std::string expected_opening =
      std::string("Simulated answer to a message of 10 characters (hash ") + hash_hex + ").";
  EXPECT_EQ(answer.text.rfind(expected_opening, 0), 0u) << answer.text;
}

TEST(ComposeAnswerTest, HasFortyToEightyWordsWithMultiByteText) {
  std::set<std::size_t> lengths;
  for (int i = 0; i < 200; ++i) {
    const SimAnswer answer =
        ComposeAnswer(MakeRequest("question number " + std::to_string(i)), PromptCacheUse::kNone);
    const std::size_t words = CountWords(answer.text);
    EXPECT_GE(words, 40u);
    EXPECT_LE(words, 80u);
    EXPECT_EQ(answer.word_starts.size(), words);
    EXPECT_EQ(answer.usage.output_tokens, static_cast<std::int64_t>(words));
    EXPECT_EQ(answer.stop_reason, StopReason::kEndTurn);
    EXPECT_TRUE(HasMultiByte(answer.text)) << answer.text;
    EXPECT_EQ(answer.text.back(), '.');
    lengths.insert(words);
  }
  EXPECT_GT(lengths.size(), 10u);  // The length varies with the request.
}

TEST(ComposeAnswerTest, CutsAtMaxTokensWithStopReasonMaxTokens) {
  const SimAnswer full = ComposeAnswer(MakeRequest("cut me"), PromptCacheUse::kNone);
  const auto full_words = static_cast<std::int64_t>(full.word_starts.size());

  const SimAnswer one = ComposeAnswer(MakeRequest("cut me", 1), PromptCacheUse::kNone);
  EXPECT_EQ(one.text, "Simulated");
  EXPECT_EQ(one.usage.output_tokens, 1);
  EXPECT_EQ(one.stop_reason, StopReason::kMaxTokens);

  const SimAnswer just_under =
      ComposeAnswer(MakeRequest("cut me", full_words - 1), PromptCacheUse::kNone);
  EXPECT_EQ(just_under.stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(just_under.usage.output_tokens, full_words - 1);
  EXPECT_EQ(full.text.rfind(just_under.text, 0), 0u);  // A prefix of the full answer.
  EXPECT_NE(just_under.text.back(), ' ');

  const SimAnswer exact = ComposeAnswer(MakeRequest("cut me", full_words), PromptCacheUse::kNone);
  EXPECT_EQ(exact.stop_reason, StopReason::kEndTurn);
  EXPECT_EQ(exact.text, full.text);
}

TEST(ComposeAnswerTest, InputTokensAreCharactersOverFourRoundedUp) {
  SimRequest request;
  request.model = "m";
  request.max_tokens = 10;
  request.messages = {{SimRole::kUser, "a"}};
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 1);
  request.messages[0].text = "abcd";
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 1);
  request.messages[0].text = "abcde";
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 2);
  request.messages[0].text = "ééééé";  // 5 characters, 10 bytes.
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 2);
  request.system = "123";  // Uncached system text counts as input.
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 2);
  request.system = "1234";
  EXPECT_EQ(ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens, 3);
  const SimUsage usage = ComposeAnswer(request, PromptCacheUse::kNone).usage;
  EXPECT_EQ(usage.cache_creation_input_tokens, 0);
  EXPECT_EQ(usage.cache_read_input_tokens, 0);
}

SimRequest CachedRequest() {
  SimRequest request;
  request.model = "m";
  request.max_tokens = 10;
  request.system = std::string(400, 's') + "tail";  // 100 cached tokens, 4 characters not.
  request.cached_system_bytes = 400;
  request.messages = {{SimRole::kUser, std::string(40, 'u')}};
  return request;
}

TEST(ComposeAnswerTest, ReportsCacheCreationThenReadOutsideInputTokens) {
  PromptCacheTracker tracker;
  const SimRequest request = CachedRequest();

  const SimUsage first = ComposeAnswer(request, TouchPromptCache(request, tracker)).usage;
  EXPECT_EQ(first.cache_creation_input_tokens, 100);
  EXPECT_EQ(first.ephemeral_5m_input_tokens, 100);
  EXPECT_EQ(first.ephemeral_1h_input_tokens, 0);
  EXPECT_EQ(first.cache_read_input_tokens, 0);
  EXPECT_EQ(first.input_tokens, 11);  // (40 + 4) / 4

  const SimUsage second = ComposeAnswer(request, TouchPromptCache(request, tracker)).usage;
  EXPECT_EQ(second.cache_creation_input_tokens, 0);
  EXPECT_EQ(second.cache_read_input_tokens, 100);
  EXPECT_EQ(second.input_tokens, 11);
}

TEST(ComposeAnswerTest, OneHourTtlIsReportedInItsBucket) {
  PromptCacheTracker tracker;
  SimRequest request = CachedRequest();
  request.cache_ttl = CacheTtl::k1h;
  const SimUsage usage = ComposeAnswer(request, TouchPromptCache(request, tracker)).usage;
  EXPECT_EQ(usage.ephemeral_1h_input_tokens, 100);
  EXPECT_EQ(usage.ephemeral_5m_input_tokens, 0);
}

TEST(TouchPromptCacheTest, DistinguishesPrefixesAndModelsAndSkipsUnmarkedPrompts) {
  PromptCacheTracker tracker;
  SimRequest request = CachedRequest();
  EXPECT_EQ(TouchPromptCache(request, tracker), PromptCacheUse::kCreated);
  request.system.back() = 'X';  // After the breakpoint: same cached prefix.
  EXPECT_EQ(TouchPromptCache(request, tracker), PromptCacheUse::kRead);
  request.system.front() = 'X';  // Inside the prefix: a new entry.
  EXPECT_EQ(TouchPromptCache(request, tracker), PromptCacheUse::kCreated);
  request.model = "other";
  EXPECT_EQ(TouchPromptCache(request, tracker), PromptCacheUse::kCreated);
  request.cached_system_bytes = 0;
  EXPECT_EQ(TouchPromptCache(request, tracker), PromptCacheUse::kNone);
  EXPECT_EQ(tracker.Size(), 3u);
}

// Whether `text` is whole UTF-8 sequences: a delta must never split a code point.
bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

struct BulkRun {
  std::vector<std::string> deltas;
  std::string text;
  std::uint64_t words = 0;
};

BulkRun RunBulk(std::uint64_t seed, std::uint64_t bytes) {
  BulkRun run;
  BulkText source{seed, bytes};
  while (!source.Done()) {
    run.deltas.emplace_back(source.Next());
    run.text += run.deltas.back();
    EXPECT_EQ(source.EmittedBytes(), run.text.size());
  }
  run.words = source.Words();
  return run;
}

class BulkTextSizeTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(BulkTextSizeTest, EmitsExactlyTheBytesInFullDeltasOfValidUtf8) {
  const std::uint64_t bytes = GetParam();
  const BulkRun run = RunBulk(42, bytes);
  EXPECT_EQ(run.text.size(), bytes);
  ASSERT_EQ(run.deltas.size(), (bytes + kBulkDeltaBytes - 1) / kBulkDeltaBytes);
  for (std::size_t i = 0; i < run.deltas.size(); ++i) {
    const std::size_t expected =
        i + 1 < run.deltas.size() ? kBulkDeltaBytes : bytes - i * kBulkDeltaBytes;
    EXPECT_EQ(run.deltas[i].size(), expected) << "delta " << i;
    EXPECT_TRUE(IsValidUtf8(run.deltas[i])) << "delta " << i;
  }
  // Words are what the padding dots do not count: whitespace-separated runs with a letter.
  std::istringstream stream{run.text};
  std::uint64_t words = 0;
  for (std::string token; stream >> token;) {
    if (token.find_first_not_of('.') != std::string::npos) ++words;
  }
  EXPECT_EQ(run.words, words);
  EXPECT_NE(run.text.front(), ' ');  // Only later words carry a leading space.
}

INSTANTIATE_TEST_SUITE_P(Sizes, BulkTextSizeTest,
                         ::testing::Values(1, 2, 13, kBulkDeltaBytes - 1, kBulkDeltaBytes,
                                           kBulkDeltaBytes + 1, 3 * kBulkDeltaBytes + 7, 1000000));

TEST(BulkTextTest, IsDeterministicPerSeedAndDiffersAcrossSeeds) {
  const BulkRun first = RunBulk(7, 50000);
  EXPECT_EQ(RunBulk(7, 50000).text, first.text);
  EXPECT_NE(RunBulk(8, 50000).text, first.text);
  // Same seed, fewer bytes: the same full deltas first.
  EXPECT_TRUE(first.text.starts_with(RunBulk(7, kBulkDeltaBytes).text));
}

TEST(BulkTextTest, CarriesMultiByteWordsAndMostlyWords) {
  const BulkRun run = RunBulk(3, 200000);
  EXPECT_TRUE(HasMultiByte(run.text));
  // Padding is at most a word's length per delta, so words fill nearly all of each delta.
  EXPECT_GT(run.words, 200000u / 16);
  EXPECT_LT(std::count(run.text.begin(), run.text.end(), '.'),
            static_cast<std::ptrdiff_t>(16 * run.deltas.size()));
}

TEST(ComposeBulkAnswerTest, IgnoresMaxTokensAndCountsEveryWord) {
  const SimRequest request = MakeRequest("Send me a lot [[simulate:bulk:40000]]", /*max_tokens=*/5);
  const SimAnswer answer = ComposeBulkAnswer(request, PromptCacheUse::kNone, 40000);
  const BulkRun run = RunBulk(RequestHash(request), 40000);
  EXPECT_EQ(answer.text, run.text);
  EXPECT_EQ(answer.stop_reason, StopReason::kEndTurn);
  EXPECT_EQ(answer.usage.output_tokens, static_cast<std::int64_t>(run.words));
  EXPECT_GT(answer.usage.output_tokens, 5);
  EXPECT_TRUE(answer.word_starts.empty());
  // The input side is what an ordinary answer to the same request reports.
  EXPECT_EQ(answer.usage.input_tokens,
            ComposeAnswer(request, PromptCacheUse::kNone).usage.input_tokens);
  EXPECT_EQ(BulkUsage(request, PromptCacheUse::kNone, 0).output_tokens, 1);
}

TEST(SplitIntoDeltasTest, ConcatenatesToTheTextForEveryGrouping) {
  const SimAnswer answer = ComposeAnswer(MakeRequest("split me"), PromptCacheUse::kNone);
  const std::size_t words = answer.word_starts.size();
  for (const std::size_t per_delta :
       {std::size_t{0}, std::size_t{1}, std::size_t{3}, words, words + 5}) {
    const auto deltas = SplitIntoDeltas(answer, per_delta);
    const std::size_t step = per_delta == 0 ? 1 : per_delta;
    EXPECT_EQ(deltas.size(), (words + step - 1) / step) << per_delta;
    const std::string joined =
        std::accumulate(deltas.begin(), deltas.end(), std::string{},
                        [](std::string all, std::string_view delta) { return all.append(delta); });
    EXPECT_EQ(joined, answer.text) << per_delta;
  }
  const auto single = SplitIntoDeltas(answer, 1);
  EXPECT_EQ(single[0], "Simulated");
  EXPECT_EQ(single[1], " answer");
}

}  // namespace
}  // namespace cms::simulator
