#include "core/json_escape.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace cms::core {
namespace {

// 0: copy as is; otherwise the letter of a short escape, or 'u' for \u00XX.
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}

constexpr std::array<char, 256> kEscape = MakeEscapeTable();
constexpr char kHexDigits[] = "0123456789abcdef";

// True when one of the eight bytes of `word` is below 0x20, '"' or '\\' (the classic
// "has a byte less than n" / "has a zero byte" tests; exact as to whether one exists).
bool MayNeedEscape(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * '"');
  const std::uint64_t backslash = word ^ (kOnes * '\\');
  const std::uint64_t control = (word - kOnes * 0x20) & ~word;
  const std::uint64_t has_quote = (quote - kOnes) & ~quote;
  const std::uint64_t has_backslash = (backslash - kOnes) & ~backslash;
  return ((control | has_quote | has_backslash) & kHigh) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Model output is mostly plain text: skip eight clean bytes per step.
    while (text.size() - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, text.data() + i, sizeof word);
      if (MayNeedEscape(word)) break;
      i += 8;
    }
    if (i == text.size()) break;
    const auto byte = static_cast<unsigned char>(text[i]);
    const char escape = kEscape[byte];
    if (escape == 0) continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    out.push_back('\\');
    if (escape == 'u') {
      const char digits[] = {'u', '0', '0', kHexDigits[byte >> 4], kHexDigits[byte & 0x0F]};
      out.append(digits, sizeof digits);
    } else {
      out.push_back(escape);
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

}  // namespace cms::core
