#include "http/request_id.hpp"

#include <array>
#include <span>

#include "core/hex.hpp"
#include "http/random_batch.hpp"

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
  // One batch per thread: the I/O threads each draw from their own, with no lock and no
  // state shared between them; RAND_bytes runs once per 64 ids (random_batch.hpp, which
  // also makes a forked child refill instead of repeating its parent's ids).
  thread_local RandomBatch batch;
  std::array<unsigned char, 16> bytes;
  batch.Take(bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  // 8-4-4-4-12 hex digits.
  const std::span<const unsigned char> all{bytes};
  std::string id;
  id.reserve(36);
  core::AppendHex(id, all.subspan(0, 4));
  for (const std::size_t start : {4U, 6U, 8U, 10U}) {
    id.push_back('-');
    core::AppendHex(id, all.subspan(start, start == 10 ? 6 : 2));
  }
  return id;
}

std::string SettleRequestId(std::string_view incoming) {
  return IsValidRequestId(incoming) ? std::string(incoming) : NewRequestId();
}

}  // namespace cms::http
