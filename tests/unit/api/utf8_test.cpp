#include "api/utf8.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace cms::api {
namespace {

struct CountCase {
  std::string name;
  std::string text;
  std::optional<std::size_t> expected;
};

class CountCodePointsTest : public ::testing::TestWithParam<CountCase> {};

TEST_P(CountCodePointsTest, CountsOrRejects) {
  EXPECT_EQ(CountCodePoints(GetParam().text), GetParam().expected);
  if (GetParam().expected) {
    EXPECT_EQ(CountCodePointsOfValidUtf8(GetParam().text), *GetParam().expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CountCodePointsTest,
    ::testing::Values(
        CountCase{"Empty", "", 0}, CountCase{"Ascii", "hello", 5},
        CountCase{"EmbeddedNul", std::string("a\0b", 3), 3},
        CountCase{"TwoByteEAcute", "\xc3\xa9", 1}, CountCase{"ThreeByteEuro", "\xe2\x82\xac", 1},
        CountCase{"ThreeByteCjk", "\xe4\xb8\xad\xe6\x96\x87", 2},
        CountCase{"FourByteEmoji", "\xf0\x9f\x98\x80", 1},
        CountCase{"MixedAcrossWords", "abcdefg\xc3\xa9hijklmno\xf0\x9f\x98\x80pqrstuvwxyz", 28},
        CountCase{"LargestTwoByte", "\xdf\xbf", 1},
        CountCase{"SmallestThreeByte", "\xe0\xa0\x80", 1},
        CountCase{"LastBeforeSurrogates", "\xed\x9f\xbf", 1},
        CountCase{"FirstAfterSurrogates", "\xee\x80\x80", 1},
        CountCase{"SmallestFourByte", "\xf0\x90\x80\x80", 1},
        CountCase{"LargestCodePoint", "\xf4\x8f\xbf\xbf", 1},
        CountCase{"OverlongNul", "\xc0\x80", std::nullopt},
        CountCase{"OverlongSlashC1", "\xc1\xbf", std::nullopt},
        CountCase{"OverlongThreeByte", "\xe0\x80\xaf", std::nullopt},
        CountCase{"OverlongThreeByteMax", "\xe0\x9f\xbf", std::nullopt},
        CountCase{"OverlongFourByte", "\xf0\x8f\xbf\xbf", std::nullopt},
        CountCase{"HighSurrogate", "\xed\xa0\x80", std::nullopt},
        CountCase{"LowSurrogate", "\xed\xbf\xbf", std::nullopt},
        CountCase{"AboveMaxCodePoint", "\xf4\x90\x80\x80", std::nullopt},
        CountCase{"LeadF5", "\xf5\x80\x80\x80", std::nullopt},
        CountCase{"ByteFF", "ab\xff", std::nullopt},
        CountCase{"StrayContinuation", "a\x80z", std::nullopt},
        CountCase{"TruncatedThreeByteAtEnd", "ab\xe2\x82", std::nullopt},
        CountCase{"TruncatedFourByteAtEnd", "\xf0\x9f\x98", std::nullopt},
        CountCase{"TruncatedThenAscii", "\xe2\x82z", std::nullopt},
        CountCase{"BadThirdByte", "\xe2\x28\xa1", std::nullopt},
        CountCase{"InvalidAfterLongAscii", std::string(1000, 'a') + "\xc3", std::nullopt}),
    [](const ::testing::TestParamInfo<CountCase>& info) { return info.param.name; });

// An independent reference: decode the scalar value from its bits, then apply the rules
// (shortest form, no surrogates, at most U+10FFFF). Only for sequences of one code point.
bool ReferenceIsOneCodePoint(std::string_view bytes) {
  const auto b0 = static_cast<unsigned char>(bytes[0]);
  std::size_t length = 0;
  std::uint32_t value = 0;
  if (b0 < 0x80) {
    length = 1;
    value = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    value = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    value = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    value = b0 & 0x07;
  } else {
    return false;
  }
  if (bytes.size() != length) return false;
  for (std::size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMinForLength[length]) return false;
  if (value >= 0xD800 && value <= 0xDFFF) return false;
  return value <= 0x10FFFF;
}

TEST(CountCodePointsExhaustive, AgreesWithReferenceOnAllTwoAndThreeByteSequences) {
  std::string bytes;
  for (int b0 = 0x80; b0 <= 0xFF; ++b0) {
    for (int b1 = 0; b1 <= 0xFF; ++b1) {
      bytes.assign({static_cast<char>(b0), static_cast<char>(b1)});
      const bool one = ReferenceIsOneCodePoint(bytes);
      // With b0 >= 0x80 the pair is valid only as one two-byte code point.
      ASSERT_EQ(CountCodePoints(bytes).has_value(), one) << std::hex << b0 << " " << b1;
      if (b0 < 0xE0 || b0 > 0xEF) continue;
      for (int b2 = 0x00; b2 <= 0xFF; ++b2) {
        bytes.assign({static_cast<char>(b0), static_cast<char>(b1), static_cast<char>(b2)});
        const std::optional<std::size_t> count = CountCodePoints(bytes);
        ASSERT_EQ(count.has_value(), ReferenceIsOneCodePoint(bytes))
            << std::hex << b0 << " " << b1 << " " << b2;
        if (count) {
          ASSERT_EQ(*count, 1u);
        }
      }
    }
  }
}

TEST(CountCodePointsExhaustive, AgreesWithReferenceOnFourByteSequences) {
  std::string bytes;
  for (int b0 = 0xF0; b0 <= 0xFF; ++b0) {
    for (int b1 = 0x70; b1 <= 0xC0; ++b1) {
      for (int b2 : {0x7F, 0x80, 0xBF, 0xC0}) {
        for (int b3 : {0x7F, 0x80, 0xA5, 0xBF, 0xC0}) {
          bytes.assign({static_cast<char>(b0), static_cast<char>(b1), static_cast<char>(b2),
                        static_cast<char>(b3)});
          ASSERT_EQ(CountCodePoints(bytes).has_value(), ReferenceIsOneCodePoint(bytes))
              << std::hex << b0 << " " << b1 << " " << b2 << " " << b3;
        }
      }
    }
  }
}

TEST(CountCodePoints, CountsLargeMixedText) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "ab \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
  EXPECT_EQ(CountCodePoints(text), 600'000u);
  EXPECT_EQ(CountCodePointsOfValidUtf8(text), 600'000u);
}

TEST(CountCodePointsOfValidUtf8, AgreesWithValidatingCountAtEveryLengthAndAlignment) {
  const std::string pattern = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80 bc";
  std::string text;
  for (int i = 0; i < 8; ++i) text += pattern;
  for (std::size_t start = 0; start < 8; ++start) {
    for (std::size_t length = 0; start + length <= text.size(); ++length) {
      const std::string_view slice = std::string_view(text).substr(start, length);
      const std::optional<std::size_t> expected = CountCodePoints(slice);
      if (expected) {
        ASSERT_EQ(CountCodePointsOfValidUtf8(slice), *expected) << start << "+" << length;
      }
    }
  }
}

TEST(IsCodePointBoundary, DistinguishesContinuationBytes) {
  const std::string_view text = "a\xc3\xa9\xf0\x9f\x98\x80";
  EXPECT_TRUE(IsCodePointBoundary(text, 0));
  EXPECT_TRUE(IsCodePointBoundary(text, 1));
  EXPECT_FALSE(IsCodePointBoundary(text, 2));
  EXPECT_TRUE(IsCodePointBoundary(text, 3));
  EXPECT_FALSE(IsCodePointBoundary(text, 4));
  EXPECT_FALSE(IsCodePointBoundary(text, 5));
  EXPECT_FALSE(IsCodePointBoundary(text, 6));
  EXPECT_TRUE(IsCodePointBoundary(text, 7));
}

}  // namespace
}  // namespace cms::api
