#include "api/error_response.hpp"

#include <algorithm>
#include <array>

#include "core/json_escape.hpp"

namespace cms::api {
namespace {

using upstream::UpstreamErrorKind;

constexpr std::size_t kMaxErrorTypeBytes = 64;
constexpr std::size_t kMaxDelaySecondsDigits = 10;

ErrorReply DetailReply(unsigned status, std::string_view detail, std::string_view request_id) {
  return ErrorReply{status, DetailBody(detail, request_id), std::nullopt};
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), IsDigit); }

// The value of a two-digit field, or -1 when it is not two digits.
int TwoDigits(std::string_view text, std::size_t at) {
  if (!IsDigit(text[at]) || !IsDigit(text[at + 1])) return -1;
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

template <std::size_t N>
bool IsOneOf(std::string_view word, const std::array<std::string_view, N>& words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
bool IsImfFixdate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr std::string_view kShape = "Ddd, 00 Mmm 0000 00:00:00 GMT";
  if (text.size() != kShape.size()) return false;
  if (!IsOneOf(text.substr(0, 3), kDays) || text.substr(3, 2) != ", ") return false;
  const int day = TwoDigits(text, 5);
  if (day < 1 || day > 31 || text[7] != ' ') return false;
  if (!IsOneOf(text.substr(8, 3), kMonths) || text[11] != ' ') return false;
  if (!AllDigits(text.substr(12, 4)) || text[16] != ' ') return false;
  const int hour = TwoDigits(text, 17);
  const int minute = TwoDigits(text, 20);
  const int second = TwoDigits(text, 23);
  if (hour < 0 || hour > 23 || text[19] != ':' || minute < 0 || minute > 59 || text[22] != ':' ||
      second < 0 || second > 60) {
    return false;
  }
  return text.substr(25) == " GMT";
}

std::string_view TrimSpacesAndTabs(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string DetailBody(std::string_view detail, std::string_view request_id) {
  std::string body;
  body.reserve(32 + detail.size() + request_id.size());
  body += R"({"detail":)";
  core::AppendJsonString(body, detail);
  if (!request_id.empty()) {
    body += R"(,"request_id":)";
    core::AppendJsonString(body, request_id);
  }
  body.push_back('}');
  return body;
}

ErrorReply MissingApiKeyReply(std::string_view request_id) {
  return DetailReply(401, kMissingApiKeyDetail, request_id);
}

ErrorReply InvalidApiKeyReply(std::string_view request_id) {
  return DetailReply(403, kInvalidApiKeyDetail, request_id);
}

ErrorReply NotFoundReply(std::string_view request_id) {
  return DetailReply(404, kNotFoundDetail, request_id);
}

ErrorReply MethodNotAllowedReply(std::string_view request_id) {
  return DetailReply(405, kMethodNotAllowedDetail, request_id);
}

ErrorReply BodyTooLargeReply(std::string_view request_id) {
  return DetailReply(413, kBodyTooLargeDetail, request_id);
}

ErrorReply InternalErrorReply(std::string_view request_id) {
  return DetailReply(500, kInternalErrorDetail, request_id);
}

std::string ValidationErrorBody(const std::vector<ValidationIssue>& issues,
                                std::string_view request_id) {
  return RenderValidationBody(issues, request_id);
}

ErrorReply ValidationErrorReply(const std::vector<ValidationIssue>& issues,
                                std::string_view request_id) {
  return ErrorReply{422, ValidationErrorBody(issues, request_id), std::nullopt};
}

std::string_view SanitizeUpstreamErrorType(std::string_view error_type) {
  const bool sane = !error_type.empty() && error_type.size() <= kMaxErrorTypeBytes &&
                    std::all_of(error_type.begin(), error_type.end(),
                                [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  return sane ? error_type : kFallbackRejectedType;
}

std::optional<std::string> SaneRetryAfter(std::string_view value) {
  value = TrimSpacesAndTabs(value);
  const bool delay_seconds =
      !value.empty() && value.size() <= kMaxDelaySecondsDigits && AllDigits(value);
  if (delay_seconds || IsImfFixdate(value)) return std::string(value);
  return std::nullopt;
}

ErrorReply UpstreamErrorReply(const upstream::UpstreamError& error, std::string_view request_id) {
  switch (error.kind) {
    case UpstreamErrorKind::kRateLimited: {
      ErrorReply reply = DetailReply(429, kRateLimitedDetail, request_id);
      if (error.retry_after) reply.retry_after = SaneRetryAfter(*error.retry_after);
      return reply;
    }
    case UpstreamErrorKind::kBadCredentials:
      return DetailReply(500, kBadCredentialsDetail, request_id);
    case UpstreamErrorKind::kRejected: {
      std::string detail = "Upstream rejected the request (";
      detail += SanitizeUpstreamErrorType(error.error_type);
      detail += ").";
      return DetailReply(400, detail, request_id);
    }
    case UpstreamErrorKind::kUnavailable:
      return DetailReply(502, kUpstreamErrorDetail, request_id);
    case UpstreamErrorKind::kTimeout:
      return DetailReply(504, kUpstreamTimeoutDetail, request_id);
    case UpstreamErrorKind::kCancelled:
      return DetailReply(kClientClosedStatus, kClientClosedDetail, request_id);
    case UpstreamErrorKind::kOverloaded: {
      // Capacity frees within moments: a short, fixed hint keeps clients from retrying at once.
      ErrorReply reply = DetailReply(503, kOverloadedDetail, request_id);
      reply.retry_after = "1";
      return reply;
    }
    case UpstreamErrorKind::kInternal:
      break;
  }
  return InternalErrorReply(request_id);
}

}  // namespace cms::api
