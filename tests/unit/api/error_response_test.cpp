#include "api/error_response.hpp"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

namespace cms::api {
namespace {

namespace json = boost::json;
using upstream::UpstreamError;
using upstream::UpstreamErrorKind;

TEST(DetailBody, IncludesRequestIdOnlyWhenGiven) {
  EXPECT_EQ(DetailBody("Not Found", "abc-1"), R"({"detail":"Not Found","request_id":"abc-1"})");
  EXPECT_EQ(DetailBody("Not Found", ""), R"({"detail":"Not Found"})");
}

TEST(DetailBody, EscapesText) {
  EXPECT_EQ(DetailBody("a \"b\"\n", "x\\y"), R"({"detail":"a \"b\"\n","request_id":"x\\y"})");
}

struct FixedCase {
  std::string name;
  ErrorReply (*make)(std::string_view);
  unsigned status;
  std::string detail;
};

class FixedReplyTest : public ::testing::TestWithParam<FixedCase> {};

TEST_P(FixedReplyTest, HasStatusAndBody) {
  const ErrorReply reply = GetParam().make("rid");
  EXPECT_EQ(reply.status, GetParam().status);
  EXPECT_EQ(reply.body, R"({"detail":")" + GetParam().detail + R"(","request_id":"rid"})");
  EXPECT_FALSE(reply.retry_after.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FixedReplyTest,
    ::testing::Values(FixedCase{"MissingKey", &MissingApiKeyReply, 401, "X-API-Key header missing"},
                      FixedCase{"InvalidKey", &InvalidApiKeyReply, 403, "Invalid API key"},
                      FixedCase{"NotFound", &NotFoundReply, 404, "Not Found"},
                      FixedCase{"MethodNotAllowed", &MethodNotAllowedReply, 405,
                                "Method Not Allowed"},
                      FixedCase{"BodyTooLarge", &BodyTooLargeReply, 413, "Request body too large"},
                      FixedCase{"Internal", &InternalErrorReply, 500,
                                "An internal error occurred. Check logs for request_id."}),
    [](const ::testing::TestParamInfo<FixedCase>& info) { return info.param.name; });

TEST(ValidationErrorReply, Is422WithIssueList) {
  const std::vector<ValidationIssue> issues = {{"missing", {"body", "messages"}, "Field required"}};
  const ErrorReply reply = ValidationErrorReply(issues, "rid");
  EXPECT_EQ(reply.status, 422u);
  EXPECT_EQ(reply.body,
            R"({"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required"}],)"
            R"("request_id":"rid"})");
  EXPECT_EQ(ValidationErrorBody(issues),
            R"({"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required"}]})");
}

struct UpstreamCase {
  std::string name;
  UpstreamErrorKind kind;
  int upstream_status;
  std::string error_type;
  unsigned expected_status;
  std::string expected_detail;
};

class UpstreamErrorReplyTest : public ::testing::TestWithParam<UpstreamCase> {};

TEST_P(UpstreamErrorReplyTest, MapsKindToStatusAndFixedDetail) {
  const UpstreamCase& row = GetParam();
  UpstreamError error;
  error.kind = row.kind;
  error.status = row.upstream_status;
  error.error_type = row.error_type;
  error.log_message = "upstream said: org-12345 sk-ant-secret quota details";
  const ErrorReply reply = UpstreamErrorReply(error, "rid-7");
  EXPECT_EQ(reply.status, row.expected_status);
  const json::value body = json::parse(reply.body);
  EXPECT_EQ(body.as_object().size(), 2u);
  EXPECT_EQ(body.at("detail").as_string(), row.expected_detail);
  EXPECT_EQ(body.at("request_id").as_string(), "rid-7");
  EXPECT_EQ(reply.body.find("upstream said"), std::string::npos);
  EXPECT_EQ(reply.body.find("sk-ant"), std::string::npos);
  EXPECT_EQ(reply.body.find("org-12345"), std::string::npos);
  // Only shedding suggests a delay of its own; upstream rate limits pass theirs on (below).
  EXPECT_EQ(reply.retry_after.has_value(), row.kind == UpstreamErrorKind::kOverloaded);
}

INSTANTIATE_TEST_SUITE_P(
    Table, UpstreamErrorReplyTest,
    ::testing::Values(
        UpstreamCase{"RateLimited", UpstreamErrorKind::kRateLimited, 429, "rate_limit_error", 429,
                     "Anthropic rate limit reached. Retry after a moment."},
        UpstreamCase{"BadCredentials401", UpstreamErrorKind::kBadCredentials, 401,
                     "authentication_error", 500,
                     "Service misconfiguration: invalid Anthropic credentials."},
        UpstreamCase{"BadCredentials403", UpstreamErrorKind::kBadCredentials, 403,
                     "permission_error", 500,
                     "Service misconfiguration: invalid Anthropic credentials."},
        UpstreamCase{"RejectedBadRequest", UpstreamErrorKind::kRejected, 400,
                     "invalid_request_error", 400,
                     "Upstream rejected the request (invalid_request_error)."},
        UpstreamCase{"RejectedNotFound", UpstreamErrorKind::kRejected, 404, "not_found_error", 400,
                     "Upstream rejected the request (not_found_error)."},
        UpstreamCase{"RejectedTooLarge", UpstreamErrorKind::kRejected, 413, "request_too_large",
                     400, "Upstream rejected the request (request_too_large)."},
        UpstreamCase{"RejectedNoType", UpstreamErrorKind::kRejected, 400, "", 400,
                     "Upstream rejected the request (invalid_request_error)."},
        UpstreamCase{"RejectedHostileType", UpstreamErrorKind::kRejected, 400,
                     "sk-ant-secret\"}<b>", 400,
                     "Upstream rejected the request (invalid_request_error)."},
        UpstreamCase{"Overloaded529", UpstreamErrorKind::kUnavailable, 529, "overloaded_error", 502,
                     "Upstream AI error."},
        UpstreamCase{"ServerError500", UpstreamErrorKind::kUnavailable, 500, "api_error", 502,
                     "Upstream AI error."},
        UpstreamCase{"ConnectionFailure", UpstreamErrorKind::kUnavailable, 0, "", 502,
                     "Upstream AI error."},
        UpstreamCase{"Timeout", UpstreamErrorKind::kTimeout, 0, "", 504, "Upstream AI timeout."},
        UpstreamCase{"Cancelled", UpstreamErrorKind::kCancelled, 0, "", 499,
                     "Client closed request"},
        UpstreamCase{"ShedForCapacity", UpstreamErrorKind::kOverloaded, 0, "", 503,
                     "Service is at capacity. Retry after a moment."},
        UpstreamCase{"Internal", UpstreamErrorKind::kInternal, 0, "", 500,
                     "An internal error occurred. Check logs for request_id."},
        UpstreamCase{"UnknownKindValue", static_cast<UpstreamErrorKind>(99), 0, "", 500,
                     "An internal error occurred. Check logs for request_id."}),
    [](const ::testing::TestParamInfo<UpstreamCase>& info) { return info.param.name; });

TEST(UpstreamErrorReply, PassesSaneRetryAfterOnlyForRateLimits) {
  UpstreamError error;
  error.kind = UpstreamErrorKind::kRateLimited;
  error.retry_after = "30";
  EXPECT_EQ(UpstreamErrorReply(error, "r").retry_after, "30");
  error.retry_after = "30\r\nSet-Cookie: x=1";
  EXPECT_FALSE(UpstreamErrorReply(error, "r").retry_after.has_value());
  error.retry_after.reset();
  EXPECT_FALSE(UpstreamErrorReply(error, "r").retry_after.has_value());
  error.kind = UpstreamErrorKind::kUnavailable;
  error.retry_after = "30";
  EXPECT_FALSE(UpstreamErrorReply(error, "r").retry_after.has_value());
}

TEST(UpstreamErrorReply, ShedCallsAreToldToRetryInASecond) {
  UpstreamError error;
  error.kind = UpstreamErrorKind::kOverloaded;
  const ErrorReply reply = UpstreamErrorReply(error, "r");
  EXPECT_EQ(reply.status, 503U);
  EXPECT_EQ(reply.retry_after, "1");
}

TEST(UpstreamErrorReply, OmitsRequestIdWhenEmpty) {
  UpstreamError error;
  error.kind = UpstreamErrorKind::kTimeout;
  EXPECT_EQ(UpstreamErrorReply(error, "").body, R"({"detail":"Upstream AI timeout."})");
}

struct RetryAfterCase {
  std::string name;
  std::string value;
  std::optional<std::string> expected;
};

class SaneRetryAfterTest : public ::testing::TestWithParam<RetryAfterCase> {};

TEST_P(SaneRetryAfterTest, KeepsOnlyDelaySecondsOrImfDates) {
  EXPECT_EQ(SaneRetryAfter(GetParam().value), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SaneRetryAfterTest,
    ::testing::Values(
        RetryAfterCase{"Seconds", "30", "30"}, RetryAfterCase{"Zero", "0", "0"},
        RetryAfterCase{"TenDigits", "9999999999", "9999999999"},
        RetryAfterCase{"ElevenDigits", "99999999999", std::nullopt},
        RetryAfterCase{"Trimmed", " \t12 ", "12"},
        RetryAfterCase{"ImfDate", "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"},
        RetryAfterCase{"Empty", "", std::nullopt}, RetryAfterCase{"Negative", "-1", std::nullopt},
        RetryAfterCase{"Fraction", "1.5", std::nullopt},
        RetryAfterCase{"Words", "soon", std::nullopt},
        RetryAfterCase{"HeaderInjection", "5\r\nX-Evil: 1", std::nullopt},
        RetryAfterCase{"DateWrongZone", "Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
        RetryAfterCase{"DateBadMonth", "Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
        RetryAfterCase{"DateBadHour", "Sun, 06 Nov 1994 24:49:37 GMT", std::nullopt},
        RetryAfterCase{"DateDayZero", "Sun, 00 Nov 1994 08:49:37 GMT", std::nullopt},
        RetryAfterCase{"Rfc850Date", "Sunday, 06-Nov-94 08:49:37 GMT", std::nullopt}),
    [](const ::testing::TestParamInfo<RetryAfterCase>& info) { return info.param.name; });

struct TypeCase {
  std::string name;
  std::string input;
  std::string expected;
};

class SanitizeUpstreamErrorTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(SanitizeUpstreamErrorTypeTest, KeepsLowercaseIdentifiersOnly) {
  EXPECT_EQ(SanitizeUpstreamErrorType(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SanitizeUpstreamErrorTypeTest,
    ::testing::Values(TypeCase{"Plain", "not_found_error", "not_found_error"},
                      TypeCase{"SixtyFour", std::string(64, 'a'), std::string(64, 'a')},
                      TypeCase{"SixtyFive", std::string(65, 'a'), "invalid_request_error"},
                      TypeCase{"Empty", "", "invalid_request_error"},
                      TypeCase{"Uppercase", "Not_Found", "invalid_request_error"},
                      TypeCase{"Digits", "error_404", "invalid_request_error"},
                      TypeCase{"Space", "bad request", "invalid_request_error"},
                      TypeCase{"Quote", "x\"y", "invalid_request_error"}),
    [](const ::testing::TestParamInfo<TypeCase>& info) { return info.param.name; });

}  // namespace
}  // namespace cms::api
