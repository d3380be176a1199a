#include "cache/canonical_key.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <openssl/evp.h>

#include "core/hex.hpp"
#include "core/sha256.hpp"

namespace cms::cache {
namespace {

// Serialization v1, every integer big-endian:
//   str("cms.cache_key.v1")
//   str(model) u64(max_tokens)
//   u8(0) | u8(1) u64(bits of temperature, -0.0 folded into +0.0)
//   u8(cache_system)
//   u8(0) | u8(1) str(system)
//   u64(message count) then per message: u8(role) str(content)
// where str(s) = u64(byte length) bytes. Fixed widths and length prefixes make it
// prefix-free, hence injective.
constexpr std::string_view kFormatVersion = "cms.cache_key.v1";
constexpr std::size_t kSha256Bytes = 32;

struct MdContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

class Sha256Writer {
 public:
  Sha256Writer() : context_(EVP_MD_CTX_new()) {
    if (!context_ || EVP_DigestInit_ex(context_.get(), core::Sha256Algorithm(), nullptr) != 1) {
      throw std::runtime_error("cache key: SHA-256 unavailable");
    }
  }

  // Small pieces (the integers, short strings) are gathered and hashed together: each
  // EVP_DigestUpdate goes through OpenSSL's provider dispatch, and a request's key is
  // dozens of pieces. Long strings are hashed where they are.
  void Bytes(const void* data, std::size_t size) {
    if (size >= kDirectBytes) {
      Flush();  // What came before is hashed first.
      Update(data, size);
      return;
    }
    if (size > pending_.size() - pending_size_) Flush();
    std::memcpy(pending_.data() + pending_size_, data, size);
    pending_size_ += size;
  }

  void U8(std::uint8_t value) { Bytes(&value, 1); }

  void U64(std::uint64_t value) {
    std::array<unsigned char, 8> big_endian{};
    for (int i = 7; i >= 0; --i) {
      big_endian[static_cast<std::size_t>(i)] = static_cast<unsigned char>(value & 0xffU);
      value >>= 8U;
    }
    Bytes(big_endian.data(), big_endian.size());
  }

  void String(std::string_view text) {
    U64(text.size());
    Bytes(text.data(), text.size());
  }

  [[nodiscard]] CacheKey FinishHex() {
    Flush();
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest.data(), &length) != 1 || length != kSha256Bytes) {
      throw std::runtime_error("cache key: SHA-256 final failed");
    }
    return core::ToHex(std::span(digest).first(kSha256Bytes));
  }

 private:
  static constexpr std::size_t kDirectBytes = 256;

  void Update(const void* data, std::size_t size) {
    if (size != 0 && EVP_DigestUpdate(context_.get(), data, size) != 1) {
      throw std::runtime_error("cache key: SHA-256 update failed");
    }
  }
  void Flush() {
    Update(pending_.data(), pending_size_);
    pending_size_ = 0;
  }

  std::unique_ptr<EVP_MD_CTX, MdContextDeleter> context_;
  std::array<unsigned char, 1024> pending_{};  // Not yet hashed, in order.
  std::size_t pending_size_ = 0;
};

// Equal doubles must hash equally: their bit patterns agree except for the two zeros.
std::uint64_t CanonicalBits(double value) {
  if (value == 0.0) {
    value = 0.0;
  }
  return std::bit_cast<std::uint64_t>(value);
}

std::uint8_t RoleTag(core::Role role) { return role == core::Role::kUser ? 0 : 1; }

}  // namespace

CacheKey CanonicalKey(const core::CompletionRequest& request) {
  Sha256Writer writer;
  writer.String(kFormatVersion);
  writer.String(request.model);
  writer.U64(static_cast<std::uint64_t>(request.max_tokens));
  if (request.temperature.has_value()) {
    writer.U8(1);
    writer.U64(CanonicalBits(*request.temperature));
  } else {
    writer.U8(0);
  }
  writer.U8(request.cache_system ? 1 : 0);
  if (request.system.has_value()) {
    writer.U8(1);
    writer.String(*request.system);
  } else {
    writer.U8(0);
  }
  writer.U64(request.messages.size());
  for (const core::Message& message : request.messages) {
    writer.U8(RoleTag(message.role));
    writer.String(message.content);
  }
  return writer.FinishHex();
}

}  // namespace cms::cache
