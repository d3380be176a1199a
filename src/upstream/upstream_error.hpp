// File: upstream/upstream_error.hpp
//
// Why an upstream call failed, in the few kinds callers act on. The kind decides what the
// caller of our API sees (api/error_response.cpp maps it, CONTRACT.md section 7); the other
// fields are for the log only and never reach a caller.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <boost/throw_exception.hpp>

namespace cms::upstream {

enum class UpstreamErrorKind {
  kRateLimited,     // Upstream 429. Retryable later; retry_after may say when.
  kBadCredentials,  // Upstream 401/403: our Anthropic key is wrong. Not the caller's fault.
  kRejected,        // Upstream 400/404/413: the request itself is unacceptable (bad model...).
  kUnavailable,     // 529, 5xx, connection failure, malformed answer. Retryable now.
  kTimeout,         // No (complete) answer within the deadline.
  kCancelled,       // We gave up on purpose (the caller left, shutdown). Nobody to answer.
  kOverloaded,      // Shed before calling: our own upstream capacity is exhausted. Retry soon.
  kInternal,        // A defect of ours while talking to the upstream.
};

// Stable lowercase name of a kind, for log fields.
inline const char* UpstreamErrorKindName(UpstreamErrorKind kind) {
  switch (kind) {
    case UpstreamErrorKind::kRateLimited:
      return "rate_limited";
    case UpstreamErrorKind::kBadCredentials:
      return "bad_credentials";
    case UpstreamErrorKind::kRejected:
      return "rejected";
    case UpstreamErrorKind::kUnavailable:
      return "unavailable";
    case UpstreamErrorKind::kTimeout:
      return "timeout";
    case UpstreamErrorKind::kCancelled:
      return "cancelled";
    case UpstreamErrorKind::kOverloaded:
      return "overloaded";
    case UpstreamErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

struct UpstreamError {
  UpstreamErrorKind kind = UpstreamErrorKind::kInternal;
  int status = 0;                          // Upstream HTTP status; 0 when there was none.
  std::string error_type;                  // Upstream error.type, e.g. "overloaded_error".
  std::optional<std::string> retry_after;  // Upstream Retry-After header, verbatim.
  std::string log_message;                 // For the log only: never sent to a caller.
};

// Lets boost::system::result<T, UpstreamError>::value() throw on an error.
[[noreturn]] inline void throw_exception_from_error(const UpstreamError& error,
                                                    const boost::source_location& location) {
  boost::throw_exception(
      std::runtime_error(std::string("upstream error: ") + UpstreamErrorKindName(error.kind)),
      location);
}

template <class T>
using UpstreamResult = boost::system::result<T, UpstreamError>;

// An error of `kind` that no upstream status or type came with (ours: timeouts, shedding,
// cancellation, broken connections).
inline UpstreamError MakeUpstreamError(UpstreamErrorKind kind, std::string log_message) {
  UpstreamError error;
  error.kind = kind;
  error.log_message = std::move(log_message);
  return error;
}

// Maps an upstream HTTP error status to its kind (CONTRACT.md section 7): 429 rate limited,
// 401/403 bad credentials, 400/404/413 rejected, anything else unavailable.
inline UpstreamErrorKind KindForStatus(int status) {
  switch (status) {
    case 429:
      return UpstreamErrorKind::kRateLimited;
    case 401:
    case 403:
      return UpstreamErrorKind::kBadCredentials;
    case 400:
    case 404:
    case 413:
      return UpstreamErrorKind::kRejected;
    default:
      return UpstreamErrorKind::kUnavailable;
  }
}

}  // namespace cms::upstream
