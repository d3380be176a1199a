#include "core/hex.hpp"

#include <string_view>

namespace cms::core {

void AppendHex(std::string& out, std::span<const unsigned char> bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  // Sized once and written through a pointer: push_back per digit re-checked the capacity
  // and length twice per byte (a request id and two digests per request).
  const std::size_t start = out.size();
  out.resize(start + 2 * bytes.size());
  char* digit = out.data() + start;
  for (const unsigned char byte : bytes) {
    *digit++ = kDigits[byte >> 4U];
    *digit++ = kDigits[byte & 0x0FU];
  }
}

std::string ToHex(std::span<const unsigned char> bytes) {
  std::string out;
  AppendHex(out, bytes);
  return out;
}

}  // namespace cms::core
