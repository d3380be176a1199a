// File: limits/limiter.hpp
//
// Limiter: decides whether a caller (by key_id, store/key_store.hpp) may make a request
// now, and if not, how long until it may. The handler asks after authentication and before
// reading the body; a denial is answered 429 with a Retry-After header (whole seconds,
// rounded up from retry_after).
//
//   auto decision = co_await limiter.Admit(caller.key_id);
//   if (!decision) -> apply the configured outage policy, log decision.error().log_message
//   else if (!decision->allowed) -> 429, Retry-After: ceil(decision->retry_after)
//
// Contract:
// - Admit consumes `cost` units of the caller's allowance when it allows, and nothing when
//   it denies. A denial's retry_after is the wait after which the same request would be
//   allowed if nothing else were consumed meanwhile (rounded up to whole milliseconds).
// - Allowed decisions have retry_after == 0.
//
// Thread safety: one instance is shared by every I/O thread; implementations synchronise
// internally. Admit is a coroutine because a networked implementation (Redis) suspends;
// the in-memory one completes without suspending.
//
// Outage policy: configurable, for networked implementations. A LimiterError means the
// limiter could not decide; the handler then admits (fail open: availability over
// enforcement) or rejects with 503 (fail closed), as configured. The in-memory limiter
// never fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "core/net.hpp"

namespace cms::limits {

struct LimitDecision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // When denied: how long to wait; else 0.
};

struct LimiterError {
  std::string log_message;  // Why the limiter could not decide; for the log.
};

// Lets boost::system::result<T, LimiterError>::value() throw on an error.
[[noreturn]] void throw_exception_from_error(const LimiterError& error,
                                             const boost::source_location& location);

using AdmitResult = boost::system::result<LimitDecision, LimiterError>;

class Limiter {
 public:
  virtual ~Limiter();

  // Charges `cost` units to `key_id` if its allowance has room now. REQUIRES: `key_id`
  // stays valid until the returned task completes (the caller co_awaits it at once).
  virtual Task<AdmitResult> Admit(std::string_view key_id, std::uint32_t cost = 1) = 0;
};

}  // namespace cms::limits
