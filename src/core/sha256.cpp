#include "core/sha256.hpp"

#include <memory>
#include <stdexcept>

namespace cms::core {

namespace {
struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

std::unique_ptr<EVP_MD, MdDeleter> FetchSha256() {
  std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::runtime_error("OpenSSL provides no SHA-256");
  return md;
}
}  // namespace

const EVP_MD* Sha256Algorithm() {
  // Initialised once (thread-safe static initialisation), never modified afterwards.
  static const std::unique_ptr<EVP_MD, MdDeleter> kSha256 = FetchSha256();
  return kSha256.get();
}

}  // namespace cms::core
