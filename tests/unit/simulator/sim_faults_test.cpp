#include "simulator/sim_faults.hpp"

#include <string>

#include <gtest/gtest.h>

namespace cms::simulator {
namespace {

using std::chrono::milliseconds;

FaultPlan PlanFor(std::string_view text) {
  FaultPlan plan;
  AddFaultDirectives(text, plan);
  return plan;
}

struct ErrorCase {
  const char* directive;
  ApiErrorKind kind;
  unsigned status;
  const char* type;
};

class ErrorDirectiveTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorDirectiveTest, SelectsTheErrorKindWithItsStatusAndType) {
  const FaultPlan plan = PlanFor(std::string("please ") + GetParam().directive + " thanks");
  EXPECT_EQ(plan.outcome, FaultOutcome::kError);
  EXPECT_EQ(plan.error_kind, GetParam().kind);
  EXPECT_EQ(StatusOf(plan.error_kind), GetParam().status);
  EXPECT_EQ(TypeOf(plan.error_kind), GetParam().type);
  EXPECT_TRUE(plan.Any());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ErrorDirectiveTest,
    ::testing::Values(
        ErrorCase{"[[simulate:400]]", ApiErrorKind::kInvalidRequest, 400, "invalid_request_error"},
        ErrorCase{"[[simulate:401]]", ApiErrorKind::kAuthentication, 401, "authentication_error"},
        ErrorCase{"[[simulate:403]]", ApiErrorKind::kPermission, 403, "permission_error"},
        ErrorCase{"[[simulate:404]]", ApiErrorKind::kNotFound, 404, "not_found_error"},
        ErrorCase{"[[simulate:413]]", ApiErrorKind::kRequestTooLarge, 413, "request_too_large"},
        ErrorCase{"[[simulate:429]]", ApiErrorKind::kRateLimit, 429, "rate_limit_error"},
        ErrorCase{"[[simulate:500]]", ApiErrorKind::kApi, 500, "api_error"},
        ErrorCase{"[[simulate:503]]", ApiErrorKind::kUnavailable, 503, "api_error"},
        ErrorCase{"[[simulate:529]]", ApiErrorKind::kOverloaded, 529, "overloaded_error"}));

TEST(FaultDirectivesTest, RecognisesEveryBehaviourDirective) {
  const std::pair<const char*, FaultOutcome> cases[] = {
      {"[[simulate:malformed]]", FaultOutcome::kMalformed},
      {"[[simulate:disconnect]]", FaultOutcome::kDisconnect},
      {"[[simulate:disconnect-mid-stream]]", FaultOutcome::kDisconnectMidStream},
      {"[[simulate:error-mid-stream]]", FaultOutcome::kErrorMidStream},
      {"[[simulate:hang]]", FaultOutcome::kHang},
  };
  for (const auto& [directive, outcome] : cases) {
    EXPECT_EQ(PlanFor(directive).outcome, outcome) << directive;
  }
}

TEST(FaultDirectivesTest, ParsesDelaysAndClampsThemToTenMinutes) {
  EXPECT_EQ(PlanFor("[[simulate:slow:250]]").first_byte_delay, milliseconds(250));
  EXPECT_EQ(PlanFor("[[simulate:slow:0]]").first_byte_delay, milliseconds(0));
  EXPECT_EQ(PlanFor("[[simulate:chunk-delay:20]]").chunk_delay, milliseconds(20));
  EXPECT_EQ(PlanFor("[[simulate:slow:600000]]").first_byte_delay, milliseconds(600000));
  EXPECT_EQ(PlanFor("[[simulate:slow:600001]]").first_byte_delay, kMaxFaultDelay);
  EXPECT_EQ(PlanFor("[[simulate:chunk-delay:99999999999999999999999]]").chunk_delay,
            kMaxFaultDelay);
  const FaultPlan plan = PlanFor("[[simulate:slow:5]]");
  EXPECT_EQ(plan.outcome, FaultOutcome::kNone);
  EXPECT_TRUE(plan.Any());
}

TEST(FaultDirectivesTest, IgnoresUnknownAndMalformedDirectives) {
  for (const char* text :
       {"[[simulate:418]]", "[[simulate:explode]]", "[[simulate:slow:]]", "[[simulate:slow:-5]]",
        "[[simulate:slow:12ms]]", "[[simulate:chunk-delay:abc]]", "[[simulate:429",
        "[simulate:429]]", "[[SIMULATE:429]]", "[[simulate: 429]]", "plain text", ""}) {
    const FaultPlan plan = PlanFor(text);
    EXPECT_FALSE(plan.Any()) << text;
  }
}

TEST(FaultDirectivesTest, FirstOutcomeWinsAndDelaysCombine) {
  const FaultPlan plan = PlanFor(
      "[[simulate:unknown]] [[simulate:slow:10]] [[simulate:529]] [[simulate:429]] "
      "[[simulate:slow:99]] [[simulate:chunk-delay:7]] [[simulate:hang]]");
  EXPECT_EQ(plan.outcome, FaultOutcome::kError);
  EXPECT_EQ(plan.error_kind, ApiErrorKind::kOverloaded);
  EXPECT_EQ(plan.first_byte_delay, milliseconds(10));
  EXPECT_EQ(plan.chunk_delay, milliseconds(7));
}

TEST(FaultDirectivesTest, FindsADirectiveAfterAnUnterminatedOpener) {
  EXPECT_EQ(PlanFor("[[simulate:oops and later [[simulate:500]]").outcome, FaultOutcome::kError);
}

TEST(PlanFaultsTest, ScansEveryMessageInOrder) {
  SimRequest request;
  request.messages = {{SimRole::kUser, "first [[simulate:chunk-delay:3]]"},
                      {SimRole::kAssistant, "middle [[simulate:disconnect-mid-stream]]"},
                      {SimRole::kUser, "last [[simulate:429]]"}};
  const FaultPlan plan = PlanFaults(request);
  EXPECT_EQ(plan.outcome, FaultOutcome::kDisconnectMidStream);
  EXPECT_EQ(plan.chunk_delay, milliseconds(3));
  EXPECT_FALSE(plan.first_byte_delay.has_value());
}

TEST(PlanFaultsTest, IgnoresTheSystemPrompt) {
  SimRequest request;
  request.system = "[[simulate:500]]";
  request.messages = {{SimRole::kUser, "hello"}};
  EXPECT_FALSE(PlanFaults(request).Any());
}

}  // namespace
}  // namespace cms::simulator
