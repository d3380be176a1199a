#include "api/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace cms::api {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// The length of the sequence a lead byte starts and the range its second byte must fall
// in: the narrowed ranges are what exclude overlongs (E0, F0), surrogates (ED) and values
// past U+10FFFF (F4). length 0 marks a byte that cannot start a sequence.
struct LeadByte {
  std::size_t length;
  unsigned char second_min;
  unsigned char second_max;
};

constexpr LeadByte ClassifyLead(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return {2, 0x80, 0xBF};
  if (lead == 0xE0) return {3, 0xA0, 0xBF};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead >= 0xE1 && lead <= 0xEF) return {3, 0x80, 0xBF};
  if (lead == 0xF0) return {4, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return {4, 0x80, 0xBF};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

std::optional<std::size_t> CountCodePoints(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  std::size_t count = 0;
  while (p != end) {
    // Prompts are mostly ASCII: skip whole words of it before decoding byte by byte.
    while (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, sizeof word);
      if ((word & kHighBits) != 0) break;
      p += 8;
      count += 8;
    }
    if (p == end) break;
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      ++count;
      continue;
    }
    const LeadByte info = ClassifyLead(lead);
    if (info.length == 0 || static_cast<std::size_t>(end - p) < info.length) return std::nullopt;
    if (p[1] < info.second_min || p[1] > info.second_max) return std::nullopt;
    for (std::size_t i = 2; i < info.length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return std::nullopt;
    }
    p += info.length;
    ++count;
  }
  return count;
}

}  // namespace cms::api
