// File: api/utf8.hpp
//
// UTF-8 helpers for the validation rules that count "characters" the way Python's len()
// does: Unicode code points, not bytes and not UTF-16 units (CONTRACT.md section 3).
//
// Thread safety: pure functions, no state.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace cms::api {

// The number of code points in `text`, or std::nullopt when `text` is not well-formed
// UTF-8 (Unicode Table 3-7): overlong forms, UTF-16 surrogates (U+D800..U+DFFF), values
// above U+10FFFF, stray continuation bytes and truncated sequences are all rejected.
// Linear and allocation-free, with an ASCII fast path of eight bytes per step.
[[nodiscard]] std::optional<std::size_t> CountCodePoints(std::string_view text);

// The number of code points in `text`, which the caller knows to be valid UTF-8 (for
// instance a string produced by the strict JSON parser): counts the bytes that are not
// continuation bytes, eight at a time, without validating.
// REQUIRES: `text` is valid UTF-8; otherwise the result is some count, not an error.
[[nodiscard]] std::size_t CountCodePointsOfValidUtf8(std::string_view text);

// True when `text[index]` is not a UTF-8 continuation byte (10xxxxxx), i.e. a string may
// be cut before it without splitting a code point. `index == text.size()` is a boundary.
// REQUIRES: index <= text.size().
[[nodiscard]] inline bool IsCodePointBoundary(std::string_view text, std::size_t index) {
  return index >= text.size() || (static_cast<unsigned char>(text[index]) & 0xC0) != 0x80;
}

}  // namespace cms::api
