#include "simulator/sim_faults.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "simulator/sim_answer.hpp"

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

// ---- [[simulate:fail-times:<n>:<failure>]] -------------------------------------------------

struct FailTimesCase {
  const char* directive;
  std::uint32_t times;
  unsigned status;  // 0: reset.
  const char* type;
};

class FailTimesDirectiveTest : public ::testing::TestWithParam<FailTimesCase> {};

TEST_P(FailTimesDirectiveTest, ParsesTheCountAndTheFailure) {
  const FailTimesCase& row = GetParam();
  const FaultPlan plan = PlanFor(std::string("retry me ") + row.directive + " please");
  ASSERT_TRUE(plan.fail_times.has_value()) << row.directive;
  EXPECT_EQ(plan.fail_times->times, row.times);
  EXPECT_EQ(plan.fail_times->status, row.status);
  EXPECT_EQ(plan.fail_times->IsReset(), row.status == 0);
  EXPECT_EQ(RepeatedFailureType(row.status), row.type);
  // The fail-times directive is not an outcome: once its failures are spent, the request is
  // answered normally.
  EXPECT_EQ(plan.outcome, FaultOutcome::kNone);
  EXPECT_TRUE(plan.Any());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FailTimesDirectiveTest,
    ::testing::Values(FailTimesCase{"[[simulate:fail-times:2:529]]", 2, 529, "overloaded_error"},
                      FailTimesCase{"[[simulate:fail-times:1:429]]", 1, 429, "rate_limit_error"},
                      FailTimesCase{"[[simulate:fail-times:3:500]]", 3, 500, "api_error"},
                      FailTimesCase{"[[simulate:fail-times:1:502]]", 1, 502, "api_error"},
                      FailTimesCase{"[[simulate:fail-times:4:503]]", 4, 503, "api_error"},
                      FailTimesCase{"[[simulate:fail-times:1:504]]", 1, 504, "timeout_error"},
                      FailTimesCase{"[[simulate:fail-times:2:reset]]", 2, 0, "api_error"},
                      FailTimesCase{"[[simulate:fail-times:1000:529]]", kMaxFailTimes, 529,
                                    "overloaded_error"}));

TEST(FailTimesDirectiveTest, IgnoresMalformedFailTimes) {
  for (const char* text :
       {"[[simulate:fail-times:0:529]]", "[[simulate:fail-times:1001:529]]",
        "[[simulate:fail-times:-1:529]]", "[[simulate:fail-times:99999999999:529]]",
        "[[simulate:fail-times:2]]", "[[simulate:fail-times:2:]]", "[[simulate:fail-times::529]]",
        "[[simulate:fail-times:2:400]]", "[[simulate:fail-times:2:401]]",
        "[[simulate:fail-times:2:0529]]", "[[simulate:fail-times:2:529 ]]",
        "[[simulate:fail-times:2:RESET]]", "[[simulate:fail-times:2:529:1]]",
        "[[simulate:fail-times:x:529]]", "[[simulate:fail-times:2x:529]]"}) {
    EXPECT_FALSE(PlanFor(text).Any()) << text;
  }
}

TEST(FailTimesDirectiveTest, FirstValidOccurrenceWinsAndCombinesWithOthers) {
  const FaultPlan plan = PlanFor(
      "[[simulate:fail-times:0:529]] [[simulate:slow:5]] [[simulate:fail-times:2:503]] "
      "[[simulate:fail-times:9:529]] [[simulate:malformed]]");
  ASSERT_TRUE(plan.fail_times.has_value());
  EXPECT_EQ(*plan.fail_times, (RepeatedFailure{2, 503}));
  EXPECT_EQ(plan.outcome, FaultOutcome::kMalformed);
  EXPECT_EQ(plan.first_byte_delay, milliseconds(5));
}

TEST(RenderRepeatedFailureBodyTest, WritesTheRealEnvelopeForEachStatus) {
  const std::pair<unsigned, const char*> rows[] = {
      {429, "rate_limit_error"}, {500, "api_error"},     {502, "api_error"},
      {503, "api_error"},        {504, "timeout_error"}, {529, "overloaded_error"}};
  for (const auto& [status, type] : rows) {
    const boost::json::value body =
        boost::json::parse(RenderRepeatedFailureBody(status, "req_sim_\"quoted\""));
    EXPECT_EQ(body.at("type").as_string(), "error") << status;
    EXPECT_EQ(body.at("error").at("type").as_string(), type) << status;
    EXPECT_FALSE(body.at("error").at("message").as_string().empty()) << status;
    EXPECT_EQ(body.at("request_id").as_string(), "req_sim_\"quoted\"") << status;
    EXPECT_EQ(body.as_object().size(), 3u);
  }
}

TEST(FailTimesKeyTest, SameContentSameKeyAndStreamCountsApart) {
  SimRequest request;
  request.model = "claude-sonnet-4-6";
  request.max_tokens = 10;
  request.messages = {{SimRole::kUser, "hello [[simulate:fail-times:2:529]]"}};
  SimRequest same = request;
  same.max_tokens = 99;  // Does not change the answer's text, so not the key either.
  EXPECT_EQ(FailTimesKey(request), FailTimesKey(same));
  SimRequest streamed = request;
  streamed.stream = true;
  EXPECT_NE(FailTimesKey(request), FailTimesKey(streamed));
  SimRequest other = request;
  other.messages[0].text += " again";
  EXPECT_NE(FailTimesKey(request), FailTimesKey(other));
  EXPECT_EQ(FailTimesKey(request), RequestHash(request));
}

TEST(FailureCounterTest, FailsTheFirstNThenPassesForGood) {
  FailureCounter counter;
  for (const std::uint32_t times : {1u, 2u, 3u}) {
    const std::uint64_t key = 100 + times;
    for (std::uint32_t i = 1; i <= times; ++i) {
      EXPECT_TRUE(counter.CountAndCheck(key, times)) << "request " << i << " of " << times;
    }
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(counter.CountAndCheck(key, times));
  }
  EXPECT_EQ(counter.Size(), 3u);
}

struct BulkCase {
  const char* text;
  std::optional<std::uint64_t> bytes;
};

class BulkDirectiveTest : public ::testing::TestWithParam<BulkCase> {};

TEST_P(BulkDirectiveTest, ParsesTheByteCountWithinBounds) {
  const FaultPlan plan = PlanFor(GetParam().text);
  EXPECT_EQ(plan.bulk_bytes, GetParam().bytes) << GetParam().text;
  EXPECT_EQ(plan.Any(), GetParam().bytes.has_value());
  // Bulk shapes the answer; it is no outcome.
  EXPECT_EQ(plan.outcome, FaultOutcome::kNone);
}

INSTANTIATE_TEST_SUITE_P(Table, BulkDirectiveTest,
                         ::testing::Values(BulkCase{"[[simulate:bulk:1]]", 1},
                                           BulkCase{"[[simulate:bulk:16384]]", 16384},
                                           BulkCase{"[[simulate:bulk:67108864]]", 67108864},
                                           BulkCase{"[[simulate:bulk:268435456]]", kMaxBulkBytes},
                                           BulkCase{"[[simulate:bulk:268435457]]", kMaxBulkBytes},
                                           BulkCase{"[[simulate:bulk:99999999999999999999999]]",
                                                    kMaxBulkBytes},
                                           BulkCase{"[[simulate:bulk:0]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk:]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk:-5]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk:+5]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk:12k]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk: 5]]", std::nullopt},
                                           BulkCase{"[[simulate:bulk:5 ]]", std::nullopt}));

TEST(BulkDirectiveTest, FirstValidOccurrenceWinsAndCombinesWithOutcomeAndDelays) {
  const FaultPlan plan = PlanFor(
      "[[simulate:bulk:0]] [[simulate:bulk:4096]] [[simulate:error-mid-stream]] "
      "[[simulate:bulk:8192]] [[simulate:chunk-delay:5]]");
  EXPECT_EQ(plan.bulk_bytes, std::optional<std::uint64_t>{4096});
  EXPECT_EQ(plan.outcome, FaultOutcome::kErrorMidStream);
  EXPECT_EQ(plan.chunk_delay, std::optional<milliseconds>{5});
}

TEST(BulkDirectiveTest, IsReadFromEveryMessage) {
  SimRequest request;
  request.messages = {{SimRole::kUser, "first"},
                      {SimRole::kAssistant, "ok"},
                      {SimRole::kUser, "now [[simulate:bulk:100000]]"}};
  EXPECT_EQ(PlanFaults(request).bulk_bytes, std::optional<std::uint64_t>{100000});
}

TEST(FailureCounterTest, CountsEachKeyApart) {
  FailureCounter counter;
  EXPECT_TRUE(counter.CountAndCheck(1, 1));
  EXPECT_TRUE(counter.CountAndCheck(2, 1));
  EXPECT_FALSE(counter.CountAndCheck(1, 1));
  EXPECT_FALSE(counter.CountAndCheck(2, 1));
}

TEST(FailureCounterTest, ForgetsTheLeastRecentlySeenKeyBeyondCapacity) {
  FailureCounter counter(2);
  EXPECT_TRUE(counter.CountAndCheck(1, 1));
  EXPECT_TRUE(counter.CountAndCheck(2, 1));
  EXPECT_FALSE(counter.CountAndCheck(1, 1));  // 1 is now the most recent.
  EXPECT_TRUE(counter.CountAndCheck(3, 1));   // Evicts 2.
  EXPECT_EQ(counter.Size(), 2u);
  EXPECT_FALSE(counter.CountAndCheck(1, 1));  // Still remembered.
  EXPECT_TRUE(counter.CountAndCheck(2, 1));   // Forgotten: counts from zero again.
}

TEST(FailureCounterTest, ClearForgetsEveryCount) {
  FailureCounter counter;
  EXPECT_TRUE(counter.CountAndCheck(7, 1));
  EXPECT_FALSE(counter.CountAndCheck(7, 1));
  counter.Clear();
  EXPECT_EQ(counter.Size(), 0u);
  EXPECT_TRUE(counter.CountAndCheck(7, 1));
}

}  // namespace
}  // namespace cms::simulator
