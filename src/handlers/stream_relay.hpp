// File: handlers/stream_relay.hpp
//
// RelayStream: moves an open upstream stream to the caller as our SSE events (see
// stream_handler.hpp for the promises). Two branches run together on the connection's
// thread and the first to finish ends the other:
//   - the forwarder (writes events, heartbeats, the end or the error event; while it waits
//     for the next events it also watches the caller's socket, and returns when the caller
//     disconnects),
//   - the pump (pulls upstream events, a burst at a time, into a channel of one item; after
//     the last one it waits to be cancelled, so only the forwarder decides when the relay
//     ends).
// Ending the pump cancels the upstream read: a departed caller stops the upstream at once.
// The caller is watched only between writes, never during one, so a write is never cut by
// the watch and a drain's closing error event never lands inside a half-written chunk. (The
// readiness wait under the watch stays armed across writes, but cancels nothing while no
// watch listens: see http/caller_monitor.hpp.)
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "core/completion.hpp"
#include "http/exchange.hpp"
#include "upstream/provider.hpp"

namespace cms::handlers {

enum class StreamOutcome { kCompleted, kClientDisconnected, kUpstreamError, kServerShutdown };

// "completed", "client_disconnected", "upstream_error", "server_shutdown": the stream_end
// log's outcome.
const char* StreamOutcomeName(StreamOutcome outcome);

struct RelayReport {
  StreamOutcome outcome = StreamOutcome::kClientDisconnected;
  std::size_t chunks = 0;                        // Text events written to the caller.
  std::optional<core::Completion> completion;    // Set when kCompleted.
  std::optional<upstream::UpstreamError> error;  // Set when kUpstreamError.
};

struct RelayOptions {
  std::chrono::seconds heartbeat{15};
  // Most text deltas handed from the pump to the forwarder in one step (a burst the
  // upstream delivered together). About two such steps are held for a caller that stops
  // reading; beyond that the upstream read waits (backpressure).
  std::size_t buffer_events = 16;
};

// REQUIRES: exchange.BeginEventStream() succeeded; it may have held the head back for the
// first events (the relay sends it alone before it first waits). `upstream` and `exchange`
// outlive the call (the handler owns both and awaits this at once).
Task<RelayReport> RelayStream(upstream::CompletionStream& upstream, http::Exchange& exchange,
                              RelayOptions options);

// Replays a stored answer as a stream: its text in chunks of at most `chunk_bytes`, then
// [DONE]. REQUIRES: exchange.BeginEventStream() succeeded.
Task<RelayReport> ReplayStream(const core::Completion& completion, http::Exchange& exchange,
                               std::size_t chunk_bytes);

}  // namespace cms::handlers
