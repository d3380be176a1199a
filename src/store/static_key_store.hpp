// File: store/static_key_store.hpp
//
// StaticKeyStore: the KeyStore (store/key_store.hpp) for keys fixed at startup, from
// SERVICE_API_KEY. Several keys may be accepted at once so a key can be rotated without
// downtime: deploy with old and new, move callers, deploy with new only. (Splitting the
// variable's comma list is config/'s job; this class takes the keys.)
//
//   store::StaticKeyStore keys(settings.service_api_keys);
//   auto caller = co_await keys.Authenticate(presented);  // never fails, never suspends
//
// Only the SHA-256 digest of each key is kept, never the key. Authenticate hashes the
// presented key and compares the digest with every stored one with CRYPTO_memcmp, without
// stopping at a match, so its time depends only on the presented key's length and the
// number of accepted keys, not on which key matched or how much of it.
//
// Thread safety: immutable after construction; Authenticate may run on any thread at once.
// Failures: none on the data plane (every result holds a value). Construction throws
// std::invalid_argument for an empty key: that would let an empty X-API-Key through.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net.hpp"
#include "store/key_fingerprint.hpp"
#include "store/key_store.hpp"

namespace cms::store {

class StaticKeyStore final : public KeyStore {
 public:
  // `accepted_keys` may be empty (nobody is accepted) and may repeat a key (kept once).
  explicit StaticKeyStore(const std::vector<std::string>& accepted_keys);

  // KeyStore
  Task<AuthenticateResult> Authenticate(std::string_view presented_key) override;

  // The number of distinct accepted keys.
  [[nodiscard]] std::size_t Size() const { return digests_.size(); }

 private:
  [[nodiscard]] std::optional<Caller> Match(std::string_view presented_key) const;

  // Constant after construction; index i of each describes the same key.
  std::vector<KeyDigest> digests_;
  std::vector<std::string> key_ids_;
};

}  // namespace cms::store
