#include "simulator/sim_json.hpp"

#include <array>
#include <charconv>

namespace cms::simulator {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

}  // namespace

void AppendInteger(std::string& out, std::int64_t value) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end);
}

void AppendHex(std::string& out, std::uint64_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHexDigits[(value >> shift) & 0xF]);
  }
}

}  // namespace cms::simulator
