// File: handlers/handler_context.hpp
//
// HandlerContext: what the completion handlers share, borrowed from the App that owns it all
// (the App outlives every request, including the drain). Immutable after startup; every part
// it points to is safe to use from any worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

#include "api/parse_completion_request.hpp"
#include "cache/response_cache.hpp"
#include "cache/single_flight.hpp"
#include "limits/limiter.hpp"
#include "limits/upstream_gate.hpp"
#include "observability/logger.hpp"
#include "store/key_store.hpp"
#include "upstream/provider.hpp"

namespace cms::handlers {

struct HandlerSettings {
  api::RequestLimits limits;                    // Validation defaults and ceilings.
  std::chrono::seconds upstream_timeout{120};   // UPSTREAM_TIMEOUT_SECONDS: whole call.
  std::chrono::seconds first_byte_timeout{30};  // UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS.
  std::chrono::seconds stream_heartbeat{15};    // STREAM_HEARTBEAT_SECONDS.
  bool cache_enabled = true;                    // CACHE_TTL_SECONDS > 0.
  std::size_t replay_chunk_bytes = 64;          // A cached answer replays in such chunks.
  std::size_t stream_buffer_events = 16;        // Upstream events buffered per stream.
};

// Identical concurrent cache misses share one upstream call (and its outcome, errors too).
using CompletionFlights = cache::SingleFlight<upstream::UpstreamResult<core::Completion>>;

struct HandlerContext {
  const HandlerSettings& settings;
  store::KeyStore& key_store;
  limits::Limiter& limiter;
  cache::ResponseCache& cache;
  CompletionFlights& flights;
  limits::UpstreamGate& upstream_gate;  // MAX_CONCURRENT_UPSTREAM and its bounded queue.
  upstream::Provider& provider;         // With retries (upstream/retrying_provider.hpp).
  observability::Logger& logger;
};

}  // namespace cms::handlers
