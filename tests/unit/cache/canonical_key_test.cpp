#include "cache/canonical_key.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/completion.hpp"
#include "core/hex.hpp"

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

// Serialization v1 written out in one string and hashed in one call, straight from the
// format's description: the writer's gathering of small pieces must not change a digest,
// whichever piece crosses its buffer or goes around it.
std::string ReferenceKey(const CompletionRequest& request) {
  std::string bytes;
  const auto u8 = [&](unsigned value) { bytes.push_back(static_cast<char>(value)); };
  const auto u64 = [&](std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
      u8(static_cast<unsigned>((value >> shift) & 0xffU));
  };
  const auto str = [&](std::string_view text) {
    u64(text.size());
    bytes.append(text);
  };
  str("cms.cache_key.v1");
  str(request.model);
  u64(static_cast<std::uint64_t>(request.max_tokens));
  if (request.temperature) {
    u8(1);
    u64(std::bit_cast<std::uint64_t>(*request.temperature == 0.0 ? 0.0 : *request.temperature));
  } else {
    u8(0);
  }
  u8(request.cache_system ? 1 : 0);
  if (request.system) {
    u8(1);
    str(*request.system);
  } else {
    u8(0);
  }
  u64(request.messages.size());
  for (const Message& message : request.messages) {
    u8(message.role == Role::kUser ? 0 : 1);
    str(message.content);
  }
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr),
            1);
  return core::ToHex(digest);
}

TEST(CanonicalKeyTest, LongAndShortPiecesHashAsOneSerialization) {
  EXPECT_EQ(CanonicalKey(BaseRequest()), ReferenceKey(BaseRequest()));
  for (const std::size_t length :
       {0U, 1U, 255U, 256U, 257U, 900U, 1000U, 1023U, 1024U, 1025U, 3000U, 70000U}) {
    std::vector<std::string> contents;
    for (std::size_t i = 0; i < 7; ++i) contents.push_back(std::string(length + i, 'a' + i));
    CompletionRequest request = WithUserMessages(contents);
    request.system = std::string(length, 's');
    request.messages[1].role = Role::kAssistant;
    EXPECT_EQ(CanonicalKey(request), ReferenceKey(request)) << "length " << length;
  }
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
