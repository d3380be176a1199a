#include "core/hex.hpp"

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace cms::core {
namespace {

TEST(HexTest, TwoLowercaseDigitsPerByteInOrder) {
  const std::array<unsigned char, 5> bytes{0x00, 0x0f, 0xa0, 0xff, 0x5c};
  EXPECT_EQ(ToHex(bytes), "000fa0ff5c");
}

TEST(HexTest, AppendsAfterExistingText) {
  std::string out = "id-";
  const std::array<unsigned char, 2> bytes{0xde, 0xad};
  AppendHex(out, bytes);
  EXPECT_EQ(out, "id-dead");
  EXPECT_EQ(ToHex({}), "");
}

TEST(HexTest, EveryByteValueMatchesPrintf) {
  std::array<unsigned char, 256> bytes{};
  std::string expected;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<unsigned char>(i);
    std::array<char, 3> digits{};
    std::snprintf(digits.data(), digits.size(), "%02x", static_cast<unsigned>(i));
    expected.append(digits.data(), 2);
  }
  EXPECT_EQ(ToHex(bytes), expected);
}

}  // namespace
}  // namespace cms::core
