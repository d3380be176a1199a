// File: store/key_fingerprint.hpp
//
// How API keys are reduced to what the service may keep: a SHA-256 digest for comparing
// (StaticKeyStore holds only these), and a short key_id for naming a caller in logs,
// metrics and rate-limit buckets without revealing the key.
//
//   const store::KeyDigest digest = store::DigestKey(key);
//   const std::string key_id = store::KeyIdOf(digest);  // e.g. "5e884898da28"
//
// 48 bits of key_id keep accidental collisions between a deployment's keys negligible and
// reveal nothing usable about a high-entropy key. A key_id is an identity label, never a
// credential: authentication always compares full digests.
//
// Thread safety: pure functions. Failure: throws std::runtime_error only if OpenSSL cannot
// compute a SHA-256 at all (out of memory, broken provider): a defect of the host.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace cms::store {

inline constexpr std::size_t kKeyDigestBytes = 32;
inline constexpr std::size_t kKeyIdLength = 12;

using KeyDigest = std::array<unsigned char, kKeyDigestBytes>;

// SHA-256 of the key's bytes, exactly as presented (no trimming, no case folding).
[[nodiscard]] KeyDigest DigestKey(std::string_view key);

// The first kKeyIdLength lowercase hex characters of `digest`.
[[nodiscard]] std::string KeyIdOf(const KeyDigest& digest);

}  // namespace cms::store
