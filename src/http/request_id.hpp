// File: http/request_id.hpp
//
// Request ids (CONTRACT.md section 8): an incoming X-Request-Id matching
// [A-Za-z0-9._:-]{1,128} is kept, anything else is replaced by a fresh UUIDv4.
// Thread-safe. Randomness comes from OpenSSL's CSPRNG through a per-thread RandomBatch
// (random_batch.hpp): no lock, and safe across fork().
#pragma once

#include <string>
#include <string_view>

namespace cms::http {

[[nodiscard]] bool IsValidRequestId(std::string_view candidate);

// A random (version 4) UUID in its canonical 36-character form, e.g.
// "3f1c2a9e-8b7d-4c6e-9f01-23456789abcd". Throws std::runtime_error if OpenSSL cannot
// produce random bytes.
[[nodiscard]] std::string NewRequestId();

// `incoming` when it is valid, else a new UUIDv4.
[[nodiscard]] std::string SettleRequestId(std::string_view incoming);

}  // namespace cms::http
