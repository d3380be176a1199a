#include "core/hex.hpp"

#include <array>

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

}  // namespace
}  // namespace cms::core
