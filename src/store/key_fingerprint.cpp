#include "store/key_fingerprint.hpp"

#include <stdexcept>

#include <openssl/evp.h>

#include "core/sha256.hpp"

namespace cms::store {

KeyDigest DigestKey(std::string_view key) {
  KeyDigest digest{};
  unsigned int length = 0;
  if (EVP_Digest(key.data(), key.size(), digest.data(), &length, core::Sha256Algorithm(),
                 nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("key digest: SHA-256 failed");
  }
  return digest;
}

std::string KeyIdOf(const KeyDigest& digest) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string key_id;
  key_id.reserve(kKeyIdLength);
  for (std::size_t i = 0; i < kKeyIdLength / 2; ++i) {
    key_id.push_back(kHex[digest[i] >> 4U]);
    key_id.push_back(kHex[digest[i] & 0x0fU]);
  }
  return key_id;
}

}  // namespace cms::store
