#include "api/utf8.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace cms::api {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// What a byte can start: the length of the sequence and the range its second byte must
// fall in. The narrowed ranges are what exclude overlongs (E0, F0), surrogates (ED) and
// values past U+10FFFF (F4). length 0 marks a byte that cannot start a multi-byte
// sequence (ASCII is handled before the table is consulted).
struct LeadByte {
  std::uint8_t length;
  std::uint8_t second_min;
  std::uint8_t second_max;
};

constexpr std::array<LeadByte, 256> MakeLeadTable() {
  std::array<LeadByte, 256> table{};
  for (int lead = 0xC2; lead <= 0xDF; ++lead) table[lead] = {2, 0x80, 0xBF};
  for (int lead = 0xE0; lead <= 0xEF; ++lead) table[lead] = {3, 0x80, 0xBF};
  table[0xE0] = {3, 0xA0, 0xBF};
  table[0xED] = {3, 0x80, 0x9F};
  for (int lead = 0xF0; lead <= 0xF4; ++lead) table[lead] = {4, 0x80, 0xBF};
  table[0xF0] = {4, 0x90, 0xBF};
  table[0xF4] = {4, 0x80, 0x8F};
  return table;
}

constexpr std::array<LeadByte, 256> kLeadTable = MakeLeadTable();

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
    const LeadByte info = kLeadTable[lead];
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

std::size_t CountCodePointsOfValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  std::size_t continuation_bytes = 0;
  for (; end - p >= 8; p += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);
    // A continuation byte is 10xxxxxx: bit 7 set and bit 6 (shifted up into bit 7) clear.
    continuation_bytes += std::popcount(word & ~(word << 1) & kHighBits);
  }
  for (; p != end; ++p) continuation_bytes += (*p & 0xC0) == 0x80 ? 1 : 0;
  return text.size() - continuation_bytes;
}

}  // namespace cms::api
