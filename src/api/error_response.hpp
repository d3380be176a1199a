// File: api/error_response.hpp
//
// The one place that turns failures into an HTTP status and a caller-facing body
// (CONTRACT.md sections 1, 2, 3 and 7). Bodies are {"detail":"<fixed text>"} plus
// "request_id" when one is given; the 422 body lists validation issues instead.
//
// What the caller sees is fixed text chosen here. Upstream details (its message, account
// data, our credentials: UpstreamError::log_message) are for the log only and never reach
// a body; the upstream's error type is passed on only after sanitising.
//
// Thread safety: pure functions and constants.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation_issue.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::api {

// A status, its JSON body, and the Retry-After value to send (only ever for 429).
struct ErrorReply {
  unsigned status = 500;
  std::string body;
  std::optional<std::string> retry_after;
};

// Fixed caller-facing texts.
inline constexpr std::string_view kMissingApiKeyDetail = "X-API-Key header missing";  // 401
inline constexpr std::string_view kInvalidApiKeyDetail = "Invalid API key";           // 403
inline constexpr std::string_view kNotFoundDetail = "Not Found";                      // 404
inline constexpr std::string_view kMethodNotAllowedDetail = "Method Not Allowed";     // 405
inline constexpr std::string_view kBodyTooLargeDetail = "Request body too large";     // 413
inline constexpr std::string_view kInternalErrorDetail =
    "An internal error occurred. Check logs for request_id.";  // 500
inline constexpr std::string_view kRateLimitedDetail =
    "Anthropic rate limit reached. Retry after a moment.";  // 429
inline constexpr std::string_view kBadCredentialsDetail =
    "Service misconfiguration: invalid Anthropic credentials.";                     // 500
inline constexpr std::string_view kUpstreamErrorDetail = "Upstream AI error.";      // 502
inline constexpr std::string_view kUpstreamTimeoutDetail = "Upstream AI timeout.";  // 504
inline constexpr std::string_view kClientClosedDetail = "Client closed request";    // 499
// 503 when upstream capacity (MAX_CONCURRENT_UPSTREAM and its queue) is exhausted.
inline constexpr std::string_view kOverloadedDetail =
    "Service is at capacity. Retry after a moment.";
// 503 (or a stream's error event) when the shutdown grace period ends a request.
inline constexpr std::string_view kShuttingDownDetail = "Service is shutting down.";
// 503 when the key store cannot answer (fail closed).
inline constexpr std::string_view kAuthUnavailableDetail =
    "Authentication is temporarily unavailable.";
// 429 from our own per-key limiter (RATE_LIMIT_PER_MINUTE), distinct from the upstream's.
inline constexpr std::string_view kCallerRateLimitedDetail =
    "Rate limit exceeded for this API key. Retry after a moment.";

// The status logged when the caller left before an answer; nothing is sent (nginx's 499).
inline constexpr unsigned kClientClosedStatus = 499;

// The error type reported in "Upstream rejected the request (<type>)." when the upstream's
// own is absent or not of the form [a-z_]{1,64}.
inline constexpr std::string_view kFallbackRejectedType = "invalid_request_error";

// {"detail":"<detail>","request_id":"<id>"}; without "request_id" when it is empty.
[[nodiscard]] std::string DetailBody(std::string_view detail, std::string_view request_id);

// Fixed replies of the HTTP and auth layers. The 405 caller adds the Allow header.
[[nodiscard]] ErrorReply MissingApiKeyReply(std::string_view request_id);     // 401
[[nodiscard]] ErrorReply InvalidApiKeyReply(std::string_view request_id);     // 403
[[nodiscard]] ErrorReply NotFoundReply(std::string_view request_id);          // 404
[[nodiscard]] ErrorReply MethodNotAllowedReply(std::string_view request_id);  // 405
[[nodiscard]] ErrorReply BodyTooLargeReply(std::string_view request_id);      // 413
[[nodiscard]] ErrorReply InternalErrorReply(std::string_view request_id);     // 500

// The 422 body: {"detail":[issues...]}, plus "request_id" when it is not empty.
[[nodiscard]] std::string ValidationErrorBody(const std::vector<ValidationIssue>& issues,
                                              std::string_view request_id = {});
[[nodiscard]] ErrorReply ValidationErrorReply(const std::vector<ValidationIssue>& issues,
                                              std::string_view request_id);

// CONTRACT.md section 7:
//   kRateLimited    -> 429 rate limit text, Retry-After passed on when sane
//   kBadCredentials -> 500 misconfiguration text
//   kRejected       -> 400 "Upstream rejected the request (<sanitised error_type>)."
//   kUnavailable    -> 502 "Upstream AI error."
//   kTimeout        -> 504 "Upstream AI timeout."
//   kCancelled      -> 499 "Client closed request" (for the log; never sent)
//   kInternal, else -> 500 internal error text
[[nodiscard]] ErrorReply UpstreamErrorReply(const upstream::UpstreamError& error,
                                            std::string_view request_id);

// `error_type` when it matches [a-z_]{1,64}, else kFallbackRejectedType.
[[nodiscard]] std::string_view SanitizeUpstreamErrorType(std::string_view error_type);

// A Retry-After value worth passing on, trimmed of surrounding spaces and tabs: delay
// seconds (1 to 10 digits) or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). Anything
// else (other text, CR/LF, obsolete date forms) gives std::nullopt, and is dropped.
[[nodiscard]] std::optional<std::string> SaneRetryAfter(std::string_view value);

}  // namespace cms::api
