#include "store/static_key_store.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>

#include <openssl/crypto.h>

namespace cms::store {

StaticKeyStore::StaticKeyStore(const std::vector<std::string>& accepted_keys) {
  digests_.reserve(accepted_keys.size());
  key_ids_.reserve(accepted_keys.size());
  for (const std::string& key : accepted_keys) {
    if (key.empty()) {
      throw std::invalid_argument("an accepted API key is empty");
    }
    const KeyDigest digest = DigestKey(key);
    if (std::find(digests_.begin(), digests_.end(), digest) != digests_.end()) {
      continue;
    }
    digests_.push_back(digest);
    key_ids_.push_back(KeyIdOf(digest));
  }
}

Task<AuthenticateResult> StaticKeyStore::Authenticate(std::string_view presented_key) {
  co_return AuthenticateResult(Match(presented_key));
}

std::optional<Caller> StaticKeyStore::Match(std::string_view presented_key) const {
  const KeyDigest presented = DigestKey(presented_key);
  // Every digest is compared in full and the outcome is folded in with masks rather than
  // branches, so neither the matching position nor the matched prefix shows in the timing.
  // Comparing digests, not keys, also hides the accepted keys' lengths.
  std::size_t matched_index = 0;
  std::size_t matched_mask = 0;
  for (std::size_t i = 0; i < digests_.size(); ++i) {
    const int difference = CRYPTO_memcmp(presented.data(), digests_[i].data(), presented.size());
    const std::size_t equal_mask = std::size_t{0} - static_cast<std::size_t>(difference == 0);
    matched_index = (matched_index & ~equal_mask) | (i & equal_mask);
    matched_mask |= equal_mask;
  }
  // An empty key never matches: no accepted key is empty, and none hashes like one.
  if (matched_mask == 0) {
    return std::nullopt;
  }
  return Caller{.key_id = key_ids_[matched_index]};
}

}  // namespace cms::store
