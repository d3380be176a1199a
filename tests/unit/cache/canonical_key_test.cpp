#include "cache/canonical_key.hpp"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/completion.hpp"

namespace cms::cache {
namespace {

using core::CompletionRequest;
using core::Message;
using core::Role;

CompletionRequest BaseRequest() {
  CompletionRequest request;
  request.model = "claude-sonnet-4-6";
  request.max_tokens = 1024;
  request.temperature = 0.7;
  request.cache_system = true;
  request.system = "You are terse.";
  request.messages = {Message{.role = Role::kUser, .content = "Hello, w\xc3\xb6rld"},
                      Message{.role = Role::kAssistant, .content = "Hi."},
                      Message{.role = Role::kUser, .content = "Again"}};
  return request;
}

CompletionRequest WithUserMessages(std::vector<std::string> contents) {
  CompletionRequest request;
  request.model = "m";
  request.max_tokens = 1;
  for (std::string& content : contents) {
    request.messages.push_back(Message{.role = Role::kUser, .content = std::move(content)});
  }
  return request;
}

bool IsLowercaseHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(CanonicalKeyTest, IsSixtyFourLowercaseHexCharacters) {
  const CacheKey key = CanonicalKey(BaseRequest());
  EXPECT_EQ(key.size(), 64u);
  EXPECT_TRUE(IsLowercaseHex(key)) << key;
}

TEST(CanonicalKeyTest, IdenticalRequestsShareAKey) {
  EXPECT_EQ(CanonicalKey(BaseRequest()), CanonicalKey(BaseRequest()));
}

// Pins serialization v1 (documented in canonical_key.cpp); the expected digests were computed
// independently from that description. If this fails, the format changed: bump the version.
TEST(CanonicalKeyTest, MatchesKnownVectors) {
  EXPECT_EQ(CanonicalKey(BaseRequest()),
            "ee50d34e646db1a6caf93c2ef88bae2d3ed4854aaaec800736d295c2dee2d072");
  EXPECT_EQ(CanonicalKey(WithUserMessages({"x"})),
            "beacf0008496ebce6402fee0b000c3f9292087cbf8f8d620e67b2990b36e8754");
}

struct FieldChange {
  const char* name;
  std::function<void(CompletionRequest&)> change;
};

TEST(CanonicalKeyTest, EveryFieldChangeChangesTheKey) {
  const std::vector<FieldChange> changes = {
      {"model", [](CompletionRequest& r) { r.model = "claude-opus-4-1"; }},
      {"model case", [](CompletionRequest& r) { r.model = "Claude-sonnet-4-6"; }},
      {"max_tokens", [](CompletionRequest& r) { r.max_tokens = 1025; }},
      {"temperature value", [](CompletionRequest& r) { r.temperature = 0.70000000000000007; }},
      {"temperature absent", [](CompletionRequest& r) { r.temperature.reset(); }},
      {"cache_system", [](CompletionRequest& r) { r.cache_system = false; }},
      {"system text", [](CompletionRequest& r) { r.system = "You are verbose."; }},
      {"system absent", [](CompletionRequest& r) { r.system.reset(); }},
      {"system empty", [](CompletionRequest& r) { r.system = ""; }},
      {"message role", [](CompletionRequest& r) { r.messages[1].role = Role::kUser; }},
      {"message content", [](CompletionRequest& r) { r.messages[2].content = "again"; }},
      {"message appended",
       [](CompletionRequest& r) {
         r.messages.push_back({Role::kUser, "More"});
       }},
      {"message removed", [](CompletionRequest& r) { r.messages.erase(r.messages.begin()); }},
      {"messages reordered", [](CompletionRequest& r) { std::swap(r.messages[0], r.messages[2]); }},
      {"trailing NUL in content", [](CompletionRequest& r) { r.messages[2].content += '\0'; }},
  };
  std::set<CacheKey> seen = {CanonicalKey(BaseRequest())};
  for (const FieldChange& row : changes) {
    CompletionRequest request = BaseRequest();
    row.change(request);
    EXPECT_TRUE(seen.insert(CanonicalKey(request)).second) << row.name;
  }
}

TEST(CanonicalKeyTest, TemperatureAbsentDiffersFromZero) {
  CompletionRequest absent = BaseRequest();
  absent.temperature.reset();
  CompletionRequest zero = BaseRequest();
  zero.temperature = 0.0;
  EXPECT_NE(CanonicalKey(absent), CanonicalKey(zero));
}

TEST(CanonicalKeyTest, EqualTemperaturesShareAKey) {
  CompletionRequest positive_zero = BaseRequest();
  positive_zero.temperature = 0.0;
  CompletionRequest negative_zero = BaseRequest();
  negative_zero.temperature = -0.0;
  EXPECT_EQ(CanonicalKey(positive_zero), CanonicalKey(negative_zero));

  CompletionRequest literal = BaseRequest();
  literal.temperature = 0.5;
  CompletionRequest computed = BaseRequest();
  computed.temperature = 1.0 / 2.0;
  EXPECT_EQ(CanonicalKey(literal), CanonicalKey(computed));
}

TEST(CanonicalKeyTest, SystemAbsentDiffersFromEmpty) {
  CompletionRequest absent = BaseRequest();
  absent.system.reset();
  CompletionRequest empty = BaseRequest();
  empty.system = "";
  EXPECT_NE(CanonicalKey(absent), CanonicalKey(empty));
}

struct AmbiguousPair {
  const char* name;
  CompletionRequest left;
  CompletionRequest right;
};

TEST(CanonicalKeyTest, ConcatenationBoundariesDoNotCollide) {
  CompletionRequest system_then_message = WithUserMessages({"bc"});
  system_then_message.system = "a";
  CompletionRequest longer_system = WithUserMessages({"c"});
  longer_system.system = "ab";

  CompletionRequest model_ab = WithUserMessages({"c"});
  model_ab.model = "ab";
  CompletionRequest model_a = WithUserMessages({"bc"});
  model_a.model = "a";

  const std::vector<AmbiguousPair> pairs = {
      {"split inside messages", WithUserMessages({"ab", "c"}), WithUserMessages({"a", "bc"})},
      {"empty message moves", WithUserMessages({"", "ab"}), WithUserMessages({"ab", ""})},
      {"one message vs two", WithUserMessages({"abc"}), WithUserMessages({"ab", "c"})},
      {"system vs first message", system_then_message, longer_system},
      {"model vs first message", model_ab, model_a},
  };
  for (const AmbiguousPair& pair : pairs) {
    EXPECT_NE(CanonicalKey(pair.left), CanonicalKey(pair.right)) << pair.name;
  }
}

TEST(CanonicalKeyTest, HandlesAHundredThousandCharacterSystemPrompt) {
  CompletionRequest long_prompt = BaseRequest();
  long_prompt.system = std::string(100'000, 'x');
  CompletionRequest one_shorter = BaseRequest();
  one_shorter.system = std::string(99'999, 'x');
  EXPECT_EQ(CanonicalKey(long_prompt), CanonicalKey(long_prompt));
  EXPECT_NE(CanonicalKey(long_prompt), CanonicalKey(one_shorter));
}

}  // namespace
}  // namespace cms::cache
