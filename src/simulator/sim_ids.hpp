// File: simulator/sim_ids.hpp
//
// IdSource: unique ids for the simulator's responses, `msg_sim_<24 hex>` and
// `req_sim_<24 hex>`. Unique within a process (a counter) and unlikely to repeat across runs
// (a random seed taken at construction); not secret and not meant to be.
//
// Thread safety: Next*() may be called from any thread at once (one atomic counter).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace cms::simulator {

class IdSource {
 public:
  IdSource();
  // A fixed seed, for tests that want reproducible ids.
  explicit IdSource(std::uint64_t seed);
  IdSource(const IdSource&) = delete;
  IdSource& operator=(const IdSource&) = delete;

  [[nodiscard]] std::string NextMessageId();  // "msg_sim_" + 24 lowercase hex digits.
  [[nodiscard]] std::string NextRequestId();  // "req_sim_" + 24 lowercase hex digits.

 private:
  [[nodiscard]] std::string Next(std::string_view prefix);

  const std::uint64_t seed_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace cms::simulator
