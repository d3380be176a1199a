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
//   [[simulate:bulk:<bytes>]]            answer with <bytes> bytes of text (1 to kMaxBulkBytes;
//                                        more is clamped), streamed in deltas of
//                                        kBulkDeltaBytes, each written and flushed on its own,
//                                        so a client that does not read blocks the simulator;
//                                        max_tokens is ignored (see sim_answer.hpp, BulkText)
//   [[simulate:fail-times:<n>:<failure>]]
//       the first n requests carrying it fail, later ones are answered as if it were absent;
//       <failure> is 429 (sent with `retry-after: 0`, so retrying tests need not wait), 500,
//       502, 503, 504 or 529 in the real envelope, or `reset` (close without answering).
//       n is 1 to kMaxFailTimes. Requests are counted per FailTimesKey (same content, same
//       stream flag), so tests with different texts do not interfere; see FailureCounter.
//
// The first outcome directive (all but slow, chunk-delay, bulk and fail-times) in reading
// order decides the answer; each delay, and bulk, takes its first valid occurrence and
// combines with any outcome (a mid-stream fault then strikes after a few bulk deltas). fail-times
// also takes its first valid occurrence; while it still has failures to give it overrides the
// outcome (a hang included), and the delays apply to its failures too. Delays are clamped to
// kMaxFaultDelay. Unknown or malformed directives are ignored.
//
// Thread safety: the free functions are pure and safe from any thread; FailureCounter
// synchronises itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "simulator/sim_error.hpp"
#include "simulator/sim_request.hpp"

namespace cms::simulator {

inline constexpr std::chrono::milliseconds kMaxFaultDelay{10 * 60 * 1000};
inline constexpr std::uint32_t kMaxFailTimes = 1000;
// The largest bulk answer: big enough to overwhelm any socket buffer, small enough that a
// non-streamed bulk answer (held whole) cannot exhaust the simulator's memory.
inline constexpr std::uint64_t kMaxBulkBytes = std::uint64_t{256} * 1024 * 1024;

enum class FaultOutcome {
  kNone,                 // Answer normally.
  kError,                // Answer FaultPlan::error_kind.
  kMalformed,            // 200 with invalid JSON.
  kDisconnect,           // Close without answering.
  kDisconnectMidStream,  // Streams: cut after a few deltas. Otherwise as kDisconnect.
  kErrorMidStream,       // Streams: error event after a few deltas. Otherwise 529.
  kHang,                 // Never answer.
};

// What `[[simulate:fail-times:<n>:<failure>]]` asks for.
struct RepeatedFailure {
  std::uint32_t times = 0;  // Requests that fail before answers resume: 1 to kMaxFailTimes.
  unsigned status = 0;      // 429, 500, 502, 503, 504 or 529; 0 for `reset`.

  // Close the connection without answering, instead of an HTTP error.
  [[nodiscard]] bool IsReset() const { return status == 0; }

  friend bool operator==(const RepeatedFailure&, const RepeatedFailure&) = default;
};

struct FaultPlan {
  FaultOutcome outcome = FaultOutcome::kNone;
  ApiErrorKind error_kind = ApiErrorKind::kApi;  // Meaningful when outcome == kError.
  std::optional<std::chrono::milliseconds> first_byte_delay;
  std::optional<std::chrono::milliseconds> chunk_delay;
  std::optional<RepeatedFailure> fail_times;
  // Bytes of bulk answer text: 1 to kMaxBulkBytes.
  std::optional<std::uint64_t> bulk_bytes;

  // True when any directive was recognised.
  [[nodiscard]] bool Any() const {
    return outcome != FaultOutcome::kNone || first_byte_delay || chunk_delay || fail_times ||
           bulk_bytes;
  }
};

// Adds the directives found in `text` to `plan`, following the precedence above.
void AddFaultDirectives(std::string_view text, FaultPlan& plan);

// The plan for a request: the directives of every message, in order.
[[nodiscard]] FaultPlan PlanFaults(const SimRequest& request);

// The `error.type` the real API sends with a fail-times status: rate_limit_error (429),
// api_error (500, 502, 503), timeout_error (504), overloaded_error (529); api_error for any
// other status.
[[nodiscard]] std::string_view RepeatedFailureType(unsigned status);

// The JSON error envelope of a fail-times failure, as RenderErrorBody writes it:
//   {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"..."}
[[nodiscard]] std::string RenderRepeatedFailureBody(unsigned status, std::string_view request_id);

// What fail-times counts requests by: the answer's RequestHash (model, temperature, system,
// messages) and the stream flag, so a streamed and a plain request are counted apart.
[[nodiscard]] std::uint64_t FailTimesKey(const SimRequest& request);

// Counts the requests seen per FailTimesKey, so the first n of them fail. Bounded: at most
// `capacity` keys are remembered, the least recently seen forgotten first; a forgotten key
// counts from zero again (its request would fail anew), which only happens after requests
// with `capacity` other fail-times keys came in between.
//
// Thread safety: every method may be called from any thread at once (one internal mutex,
// held for a hash-map operation only).
class FailureCounter {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;

  // REQUIRES: capacity >= 1.
  explicit FailureCounter(std::size_t capacity = kDefaultCapacity);
  FailureCounter(const FailureCounter&) = delete;
  FailureCounter& operator=(const FailureCounter&) = delete;

  // Counts one more request with `key`; true when it is among the first `times` (it fails).
  [[nodiscard]] bool CountAndCheck(std::uint64_t key, std::uint32_t times);

  // Forgets every count (the simulator's reset).
  void Clear();

  [[nodiscard]] std::size_t Size() const;

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint64_t seen = 0;
  };

  // Constant after construction.
  const std::size_t capacity_;

  // Guarded by mutex_. `order_` is most recently seen first; `positions_` indexes it.
  mutable std::mutex mutex_;
  std::list<Entry> order_;
  std::unordered_map<std::uint64_t, std::list<Entry>::iterator> positions_;
};

}  // namespace cms::simulator
