#include "http/request_id.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/rand.h>

namespace cms::http {

bool IsValidRequestId(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > 128) return false;
  for (const char c : candidate) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  std::array<std::uint8_t, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // Without randomness the process cannot work safely at all: a bug-class failure.
    throw std::runtime_error("RAND_bytes failed");
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[bytes[i] >> 4]);
    id.push_back(kHex[bytes[i] & 0x0F]);
  }
  return id;
}

std::string SettleRequestId(std::string_view incoming) {
  return IsValidRequestId(incoming) ? std::string(incoming) : NewRequestId();
}

}  // namespace cms::http
