// File: simulator/sim_faults.hpp
//
// Fault directives: text such as `[[simulate:429]]` anywhere in any message's content makes
// the simulator misbehave on purpose, so tests can drive every failure path of a client
// (CONTRACT.md §10). Directives:
//
//   [[simulate:400|401|403|404|413|429|500|503|529]]  that HTTP error in the real envelope
//   [[simulate:malformed]]               200 whose body (or one stream event) is not JSON
//   [[simulate:disconnect]]              close the connection without answering
//   [[simulate:disconnect-mid-stream]]   stream a few deltas, then cut the connection
//   [[simulate:error-mid-stream]]        stream a few deltas, then `event: error` (overloaded)
//   [[simulate:hang]]                    never answer; wait until the client leaves
//   [[simulate:slow:<ms>]]               delay before the first byte
//   [[simulate:chunk-delay:<ms>]]        delay between stream deltas
//
// The first outcome directive (all but slow and chunk-delay) in reading order decides the
// answer; each delay takes its first valid occurrence and combines with any outcome. Delays
// are clamped to kMaxFaultDelay. Unknown or malformed directives are ignored.
//
// Pure functions and values; safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "simulator/sim_error.hpp"
#include "simulator/sim_request.hpp"

namespace cms::simulator {

inline constexpr std::chrono::milliseconds kMaxFaultDelay{10 * 60 * 1000};

enum class FaultOutcome {
  kNone,                 // Answer normally.
  kError,                // Answer FaultPlan::error_kind.
  kMalformed,            // 200 with invalid JSON.
  kDisconnect,           // Close without answering.
  kDisconnectMidStream,  // Streams: cut after a few deltas. Otherwise as kDisconnect.
  kErrorMidStream,       // Streams: error event after a few deltas. Otherwise 529.
  kHang,                 // Never answer.
};

struct FaultPlan {
  FaultOutcome outcome = FaultOutcome::kNone;
  ApiErrorKind error_kind = ApiErrorKind::kApi;  // Meaningful when outcome == kError.
  std::optional<std::chrono::milliseconds> first_byte_delay;
  std::optional<std::chrono::milliseconds> chunk_delay;

  // True when any directive was recognised.
  [[nodiscard]] bool Any() const {
    return outcome != FaultOutcome::kNone || first_byte_delay || chunk_delay;
  }
};

// Adds the directives found in `text` to `plan`, following the precedence above.
void AddFaultDirectives(std::string_view text, FaultPlan& plan);

// The plan for a request: the directives of every message, in order.
[[nodiscard]] FaultPlan PlanFaults(const SimRequest& request);

}  // namespace cms::simulator
