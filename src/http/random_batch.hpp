// File: http/random_batch.hpp
//
// RandomBatch: random bytes from OpenSSL's CSPRNG, drawn a kilobyte at a time and handed out
// in small pieces. RAND_bytes costs about as much for 1 KiB as for 16 bytes (each call
// locks, checks for fork and reseeding, and re-keys the DRBG), so one refill serves 64
// request ids instead of one.
//
// Fork safety: a child process inherits the parent's unused bytes, and OpenSSL's own fork
// detection cannot see this buffer. Every fork() bumps a process-wide generation (a
// pthread_atfork child handler, registered on first use); a batch filled under an older
// generation is discarded and refilled, so parent and child never hand out the same bytes.
// (A raw clone(2) or _Fork() that skips atfork handlers is not covered; we use neither.)
//
// Thread safety: none; one RandomBatch per thread (see NewRequestId in request_id.cpp).
//
// Example:
//   RandomBatch batch;
//   std::array<unsigned char, 16> id;
//   batch.Take(id);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace cms::http {

class RandomBatch {
 public:
  static constexpr std::size_t kCapacity = 1024;

  // Fills its argument entirely with random bytes, or throws. Called once per refill.
  using Fill = std::function<void(std::span<unsigned char>)>;

  // `fill` defaults to FillFromOpenSsl; tests inject a deterministic one.
  explicit RandomBatch(Fill fill = FillFromOpenSsl);
  RandomBatch(const RandomBatch&) = delete;
  RandomBatch& operator=(const RandomBatch&) = delete;

  // Copies the next out.size() unused bytes into `out`. Refills first when fewer remain
  // (the rest of the old batch is discarded) or when the process forked since the last
  // refill. If the refill throws, the exception propagates and the batch stays empty, so
  // the next call tries again.
  // REQUIRES: out.size() <= kCapacity.
  void Take(std::span<unsigned char> out);

  // RAND_bytes into `out`; throws std::runtime_error when OpenSSL has no randomness to give
  // (the process cannot work safely then: a bug-class failure).
  static void FillFromOpenSsl(std::span<unsigned char> out);

 private:
  void Refill();

  const Fill fill_;
  std::array<unsigned char, kCapacity> bytes_{};
  std::size_t next_ = kCapacity;  // Index of the first unused byte; kCapacity: empty.
  std::uint64_t generation_ = 0;  // The fork generation the bytes were drawn under.
};

}  // namespace cms::http
