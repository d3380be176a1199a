#include "store/key_fingerprint.hpp"

#include <stdexcept>

#include <openssl/evp.h>

#include "core/hex.hpp"
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
  return core::ToHex(std::span(digest).first(kKeyIdLength / 2));
}

}  // namespace cms::store
