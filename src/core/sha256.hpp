// File: core/sha256.hpp
//
// The SHA-256 implementation, fetched from OpenSSL's default provider once per process.
// OpenSSL 3 resolves `EVP_sha256()` again on every digest initialisation (a provider
// lookup, several percent of a request's instructions on the cache-miss path); a fetched
// algorithm skips that. Immutable after first use; thread-safe.
#pragma once

#include <openssl/evp.h>

namespace cms::core {

// Never null: throws std::runtime_error when OpenSSL has no SHA-256 (a broken install).
const EVP_MD* Sha256Algorithm();

}  // namespace cms::core
