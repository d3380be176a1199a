// File: core/hex.hpp
//
// Lowercase hexadecimal of raw bytes (digests, random ids, keys). Pure; thread-safe.
#pragma once

#include <span>
#include <string>

namespace cms::core {

// Appends two lowercase hex digits per byte of `bytes` to `out`.
void AppendHex(std::string& out, std::span<const unsigned char> bytes);

[[nodiscard]] std::string ToHex(std::span<const unsigned char> bytes);

}  // namespace cms::core
