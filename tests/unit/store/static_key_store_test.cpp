#include "store/static_key_store.hpp"

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "store/key_fingerprint.hpp"

namespace cms::store {
namespace {

using namespace std::string_literals;

std::optional<Caller> Authenticate(StaticKeyStore& store, std::string_view key) {
  net::io_context io;
  std::optional<AuthenticateResult> outcome;
  std::exception_ptr error;
  net::co_spawn(io, store.Authenticate(key), [&](std::exception_ptr e, AuthenticateResult r) {
    error = std::move(e);
    outcome = std::move(r);
  });
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  EXPECT_TRUE(outcome.has_value() && outcome->has_value()) << "the static store never fails";
  return outcome.has_value() && outcome->has_value() ? **outcome : std::nullopt;
}

// Built per test: a std::vector is not a constant-initialized global.
std::vector<std::string> AcceptedKeys() {
  return {"sk-live-7f3a9c1e5b2d4a60", "sk-next-0c4e8b2f6a1d3e97", "legacy key with spaces"};
}

TEST(StaticKeyStoreTest, AcceptsEachConfiguredKey) {
  const std::vector<std::string> accepted = AcceptedKeys();
  StaticKeyStore store(accepted);
  for (const std::string& key : accepted) {
    const std::optional<Caller> caller = Authenticate(store, key);
    ASSERT_TRUE(caller.has_value()) << key;
    EXPECT_EQ(caller->key_id, KeyIdOf(DigestKey(key))) << key;
  }
}

TEST(StaticKeyStoreTest, RejectsKeysThatAreNotExactlyAConfiguredOne) {
  const std::vector<std::string> accepted = AcceptedKeys();
  StaticKeyStore store(accepted);
  const std::vector<std::pair<const char*, std::string>> rows = {
      {"wrong", "sk-live-0000000000000000"},
      {"empty", ""},
      {"prefix", "sk-live-7f3a9c1e5b2d4a6"},
      {"one character", "s"},
      {"longer", "sk-live-7f3a9c1e5b2d4a600"},
      {"upper case", "SK-LIVE-7F3A9C1E5B2D4A60"},
      {"one letter case-changed", "sk-live-7F3a9c1e5b2d4a60"},
      {"trailing space", "sk-live-7f3a9c1e5b2d4a60 "},
      {"leading space", " sk-live-7f3a9c1e5b2d4a60"},
      {"trailing newline", "sk-live-7f3a9c1e5b2d4a60\n"},
      {"trailing NUL", "sk-live-7f3a9c1e5b2d4a60\0"s},
      {"two keys joined", "sk-live-7f3a9c1e5b2d4a60,sk-next-0c4e8b2f6a1d3e97"},
      {"its key_id", KeyIdOf(DigestKey(accepted[0]))},
  };
  for (const auto& [name, key] : rows) {
    EXPECT_EQ(Authenticate(store, key), std::nullopt) << name;
  }
}

TEST(StaticKeyStoreTest, KeyIdIsAStableFingerprintThatDoesNotRevealTheKey) {
  const std::vector<std::string> accepted = AcceptedKeys();
  StaticKeyStore first(accepted);
  StaticKeyStore second({accepted[0]});
  const std::optional<Caller> a = Authenticate(first, accepted[0]);
  const std::optional<Caller> b = Authenticate(second, accepted[0]);
  const std::optional<Caller> other = Authenticate(first, accepted[1]);
  ASSERT_TRUE(a && b && other);
  EXPECT_EQ(a->key_id, b->key_id);  // Same key, same id, whatever else is configured.
  EXPECT_NE(a->key_id, other->key_id);
  EXPECT_EQ(a->key_id.size(), kKeyIdLength);
  EXPECT_EQ(a->key_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a->key_id.find("sk-"), std::string::npos);
}

TEST(KeyFingerprintTest, KeyIdIsThePrefixOfTheSha256Hex) {
  // SHA-256("password") = 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8.
  EXPECT_EQ(KeyIdOf(DigestKey("password")), "5e884898da28");
  // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.
  EXPECT_EQ(KeyIdOf(DigestKey("")), "e3b0c44298fc");
}

TEST(StaticKeyStoreTest, DuplicateKeysAreKeptOnce) {
  StaticKeyStore store({"k-one", "k-two", "k-one"});
  EXPECT_EQ(store.Size(), 2u);
  EXPECT_TRUE(Authenticate(store, "k-one").has_value());
  EXPECT_TRUE(Authenticate(store, "k-two").has_value());
}

TEST(StaticKeyStoreTest, EmptyConfiguredKeyIsRefusedAtConstruction) {
  EXPECT_THROW(StaticKeyStore({"k-one", ""}), std::invalid_argument);
}

TEST(StaticKeyStoreTest, StoreWithoutKeysAcceptsNobody) {
  StaticKeyStore store(std::vector<std::string>{});
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_EQ(Authenticate(store, "anything"), std::nullopt);
  EXPECT_EQ(Authenticate(store, ""), std::nullopt);
}

TEST(StaticKeyStoreTest, BinaryKeysAreComparedByteForByte) {
  const std::string binary = "k\0\xff\x01"s;
  StaticKeyStore store({binary});
  EXPECT_TRUE(Authenticate(store, binary).has_value());
  EXPECT_EQ(Authenticate(store, "k"), std::nullopt);
  EXPECT_EQ(Authenticate(store, "k\0\xff\x02"s), std::nullopt);
}

TEST(KeyStoreErrorTest, ValueOfAFailedResultThrowsWithTheLogMessage) {
  const AuthenticateResult failed(boost::system::in_place_error, KeyStoreError{"db down"});
  try {
    (void)failed.value();
    FAIL() << "value() of an error must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "key store error: db down");
  }
}

}  // namespace
}  // namespace cms::store
