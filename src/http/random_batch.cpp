#include "http/random_batch.hpp"

#include <atomic>
#include <cassert>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <openssl/rand.h>
#include <pthread.h>

namespace cms::http {

namespace {

// How many fork()s this process is removed from the first one that used a RandomBatch. It
// is process state by nature (a fork copies every thread's batch at once), hence a static:
// the one piece of shared state here, read with a relaxed load per Take().
std::atomic<std::uint64_t>& ForkGenerationCounter() {
  static std::atomic<std::uint64_t> generation{0};
  return generation;
}

std::uint64_t ForkGeneration() {
  // Registered once, on first use (thread-safe static initialisation); the handler runs in
  // the child, where only the forking thread exists.
  static const int registered = pthread_atfork(
      nullptr, nullptr, [] { ForkGenerationCounter().fetch_add(1, std::memory_order_relaxed); });
  if (registered != 0) throw std::runtime_error("pthread_atfork failed");
  return ForkGenerationCounter().load(std::memory_order_relaxed);
}

}  // namespace

RandomBatch::RandomBatch(Fill fill) : fill_(std::move(fill)) {}

void RandomBatch::Take(std::span<unsigned char> out) {
  assert(out.size() <= kCapacity);
  if (kCapacity - next_ < out.size() || generation_ != ForkGeneration()) Refill();
  std::memcpy(out.data(), bytes_.data() + next_, out.size());
  next_ += out.size();
}

void RandomBatch::Refill() {
  next_ = kCapacity;  // Empty until the fill succeeds.
  generation_ = ForkGeneration();
  fill_(bytes_);
  next_ = 0;
}

void RandomBatch::FillFromOpenSsl(std::span<unsigned char> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

}  // namespace cms::http
