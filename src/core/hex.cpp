#include "core/hex.hpp"

#include <string_view>

namespace cms::core {

void AppendHex(std::string& out, std::span<const unsigned char> bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  out.reserve(out.size() + 2 * bytes.size());
  for (const unsigned char byte : bytes) {
    out.push_back(kDigits[byte >> 4U]);
    out.push_back(kDigits[byte & 0x0FU]);
  }
}

std::string ToHex(std::span<const unsigned char> bytes) {
  std::string out;
  AppendHex(out, bytes);
  return out;
}

}  // namespace cms::core
