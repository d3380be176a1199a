// File: cache/canonical_key.hpp
//
// CanonicalKey: the response cache's key for a validated request (CONTRACT.md section 5).
// Two requests get the same key exactly when every field that can change the answer is
// equal: model, max_tokens, temperature (absent is not 0.0), cache_system, system (absent
// is not ""), and each message's role and content, in order.
//
// The key is the lowercase hex SHA-256 of a versioned binary serialization ("v1", below)
// that is prefix-free: every string carries its length and every optional a presence tag,
// so no two different requests serialize alike (["ab","c"] and ["a","bc"] differ). Fields
// are hashed in place; a 100,000-character system prompt is never copied.
//
// Changing the serialization changes every key and so empties shared caches (Redis) on
// deploy: bump the version tag when you do. The unit test pins a known vector.
//
// Thread safety: a pure function. Failure: throws std::runtime_error only if OpenSSL cannot
// compute a SHA-256 at all (out of memory, broken provider); that is a defect of the host.
#pragma once

#include "cache/response_cache.hpp"
#include "core/completion.hpp"

namespace cms::cache {

// REQUIRES: `request` passed validation, with every default applied (api/ does both).
[[nodiscard]] CacheKey CanonicalKey(const core::CompletionRequest& request);

}  // namespace cms::cache
