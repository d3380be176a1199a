// File: simulator/simulator.hpp
//
// Simulator: a fake Anthropic Messages API (CONTRACT.md §10, docs/anthropic-api.md §1-4) on
// our own HTTP server, for development, tests and benchmarks. Never used in production.
//
//   POST /v1/messages        checks x-api-key (401) and anthropic-version (400), validates
//                            the body (400), applies fault directives (simulator/sim_faults.hpp),
//                            then answers deterministically (simulator/sim_answer.hpp), as a
//                            Message object or, with "stream": true, as the full SSE sequence.
//   GET  /_simulator/stats   {"messages_requests":N,"stream_requests":N,"completed":N,
//                             "cancelled_by_client":N,"faults_injected":N,"active":N}
//   POST /_simulator/reset   zeroes the counters (not `active`, a gauge) and forgets the
//                            prompt cache; answers the stats after the reset.
//
// Counters (requests to /v1/messages only): `completed` counts responses fully sent as
// intended, errors and fault answers included; `cancelled_by_client` counts requests whose
// client left before that (a failed write, or the client seen gone during a wait);
// deliberate disconnects (`disconnect`, `disconnect-mid-stream`) count in neither. So
// messages_requests = completed + cancelled_by_client + active + deliberate disconnects.
//
// Built for speed (it is a load-test baseline): no per-request logs, bodies rendered with
// reserve/append, no regex, one mutex held only for a prompt-cache map operation.
//
// Thread safety: construct, Start(), Drain() from the owning thread; Port(), BaseUrl() and
// Stats() from any thread after Start(). Requests run on the WorkerPool's threads. The pool
// must outlive the Simulator.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/worker_pool.hpp"
#include "observability/logger.hpp"

namespace cms::simulator {

struct SimulatorOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9100;  // 0: any free port (see Port()).
  std::string api_key;        // Empty: any non-empty x-api-key is accepted.
  // Delay before the first byte of every answer (`[[simulate:slow:<ms>]]` overrides).
  std::chrono::milliseconds first_byte_delay{0};
  // Delay between stream deltas (`[[simulate:chunk-delay:<ms>]]` overrides). With 0 a
  // stream's events leave in one write.
  std::chrono::milliseconds chunk_delay{0};
  std::size_t words_per_delta = 1;  // Words per content_block_delta (0 is taken as 1).
};

// A snapshot of the counters served at /_simulator/stats (see the file comment).
struct SimulatorStats {
  std::uint64_t messages_requests = 0;
  std::uint64_t stream_requests = 0;
  std::uint64_t completed = 0;
  std::uint64_t cancelled_by_client = 0;
  std::uint64_t faults_injected = 0;
  std::uint64_t active = 0;
};

class Simulator {
 public:
  Simulator(SimulatorOptions options, core::WorkerPool& workers, observability::Logger& logger);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds, starts accepting and logs `simulator_startup` (port, api_key_required). Throws
  // std::system_error when the address cannot be resolved or bound. Call once.
  void Start();

  // The bound port. REQUIRES: Start() returned.
  [[nodiscard]] std::uint16_t Port() const;
  // "http://<host>:<port>", with 127.0.0.1 (or [::1]) for a wildcard host. REQUIRES: Start().
  [[nodiscard]] std::string BaseUrl() const;

  // Stops accepting and waits up to `grace` for requests in progress (server Drain). True
  // when all ended in time. Blocks the calling thread; never call it from a worker.
  bool Drain(std::chrono::milliseconds grace);

  [[nodiscard]] SimulatorStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cms::simulator
