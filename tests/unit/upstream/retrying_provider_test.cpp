// RetryingProvider around a scripted in-memory Provider. Delays are tiny (a fixed draw of 0
// makes backoff waits 0 ms) and asserted through the `upstream_retry` log lines and
// DelayBeforeRetry(), never through elapsed time; a run_for() bound only turns a hang into a
// failure.
#include "upstream/retrying_provider.hpp"

#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "observability/memory_logger.hpp"

namespace cms::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Never reached when the code works; a bound so a broken wait fails instead of hanging.
constexpr auto kSafetyBound = 10s;

UpstreamError Error(UpstreamErrorKind kind, int status, std::string error_type = {},
                    std::optional<std::string> retry_after = std::nullopt) {
  return UpstreamError{kind, status, std::move(error_type), std::move(retry_after),
                       "scripted failure"};
}

UpstreamError Overloaded() {
  return Error(UpstreamErrorKind::kUnavailable, 529, "overloaded_error");
}

core::Completion Answer() {
  core::Completion completion;
  completion.model = "claude-test";
  completion.content = "the answer";
  completion.stop_reason = "end_turn";
  return completion;
}

// A stream that ends at once with Answer().
class OneEventStream final : public CompletionStream {
 public:
  Task<UpstreamResult<StreamEvent>> Next() override {
    co_return StreamEvent{
        StreamEvent::Kind::kEnd, {}, std::make_unique<core::Completion>(Answer())};
  }
};

// Fails each call with the next scripted error, then answers. With `hang_first` the first
// call waits (cancellably, on the caller's slot) for an hour before failing with its error,
// so a test can cancel while the inner call is in flight.
class ScriptedProvider final : public Provider {
 public:
  explicit ScriptedProvider(std::vector<UpstreamError> failures, bool hang_first = false)
      : failures_(failures.begin(), failures.end()), hang_first_(hang_first) {}

  Task<UpstreamResult<core::Completion>> Complete(const core::CompletionRequest& request,
                                                  CallOptions options) override {
    ++complete_calls;
    Record(request, options);
    if (std::optional<UpstreamError> failure = co_await NextFailure()) co_return *failure;
    co_return Answer();
  }

  Task<UpstreamResult<std::unique_ptr<CompletionStream>>> OpenStream(
      const core::CompletionRequest& request, CallOptions options) override {
    ++open_stream_calls;
    Record(request, options);
    if (std::optional<UpstreamError> failure = co_await NextFailure()) co_return *failure;
    co_return std::make_unique<OneEventStream>();
  }

  std::string Describe() const override { return "scripted://upstream"; }

  int complete_calls = 0;
  int open_stream_calls = 0;
  std::vector<const core::CompletionRequest*> requests_seen;
  std::vector<Clock::time_point> deadlines_seen;

 private:
  void Record(const core::CompletionRequest& request, const CallOptions& options) {
    requests_seen.push_back(&request);
    deadlines_seen.push_back(options.deadline);
  }

  Task<std::optional<UpstreamError>> NextFailure() {
    if (failures_.empty()) co_return std::nullopt;
    UpstreamError failure = std::move(failures_.front());
    failures_.pop_front();
    if (hang_first_) {
      hang_first_ = false;
      SteadyTimer timer(co_await net::this_coro::executor, 1h);
      co_await timer.async_wait(kAsTuple);  // Ends early only when cancelled.
    }
    co_return failure;
  }

  std::deque<UpstreamError> failures_;
  bool hang_first_;
};

class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(double draw) : draw_(draw) {}
  double Uniform01() override {
    ++draws;
    return draw_;
  }
  int draws = 0;

 private:
  double draw_;
};

RetryPolicy Policy(int max_retries, milliseconds base = 1ms, milliseconds max = 1000ms,
                   milliseconds max_server = 1000ms) {
  RetryPolicy policy;
  policy.max_retries = max_retries;
  policy.base_delay = base;
  policy.max_delay = max;
  policy.max_server_delay = max_server;
  return policy;
}

CallOptions Options(Clock::duration time_left = 1h) {
  return CallOptions{Clock::now() + time_left, "req-retry-test"};
}

core::CompletionRequest Request() {
  core::CompletionRequest request;
  request.messages.push_back({core::Role::kUser, "secret prompt text"});
  request.model = "claude-test";
  request.max_tokens = 16;
  return request;
}

template <class T>
T RunToEnd(Task<T> task) {
  net::io_context io;
  auto result = net::co_spawn(io, std::move(task), net::use_future);
  io.run_for(kSafetyBound);
  return result.get();
}

Task<UpstreamResult<core::Completion>> CompleteOnce(Provider& provider, CallOptions options) {
  const core::CompletionRequest request = Request();
  co_return co_await provider.Complete(request, options);
}

// Opens a stream and reads it to the end; the text of the kEnd completion, or the error.
Task<UpstreamResult<std::string>> StreamOnce(Provider& provider, CallOptions options) {
  const core::CompletionRequest request = Request();
  auto stream = co_await provider.OpenStream(request, options);
  if (!stream) co_return stream.error();
  auto event = co_await (*stream)->Next();
  if (!event) co_return event.error();
  if (!event->completion) co_return std::string("<kEnd without its completion>");
  co_return event->completion->content;
}

class RetryingProviderTest : public ::testing::Test {
 protected:
  observability::MemoryLogger logger_;
  FixedRandom zero_draw_{0.0};
};

// ---- which errors are retried --------------------------------------------------------------

struct KindCase {
  const char* name;
  UpstreamError error;
  bool retryable;
};

class RetryableKindTest : public RetryingProviderTest,
                          public ::testing::WithParamInterface<KindCase> {};

TEST_P(RetryableKindTest, RetriesOnlyRetryableFailures) {
  const KindCase& row = GetParam();
  EXPECT_EQ(IsRetryable(row.error), row.retryable);

  ScriptedProvider inner({row.error});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options()));
  if (row.retryable) {
    ASSERT_TRUE(result.has_value()) << row.name;
    EXPECT_EQ(result->content, "the answer");
    EXPECT_EQ(inner.complete_calls, 2);
    EXPECT_EQ(logger_.Count("upstream_retry"), 1u);
  } else {
    ASSERT_FALSE(result.has_value()) << row.name;
    EXPECT_EQ(result.error().kind, row.error.kind);
    EXPECT_EQ(result.error().status, row.error.status);
    EXPECT_EQ(inner.complete_calls, 1);
    EXPECT_EQ(logger_.Count("upstream_retry"), 0u);
  }
}

using Kind = UpstreamErrorKind;

INSTANTIATE_TEST_SUITE_P(
    Table, RetryableKindTest,
    ::testing::Values(
        KindCase{"RateLimited429", Error(Kind::kRateLimited, 429, "rate_limit_error"), true},
        KindCase{"Overloaded529", Overloaded(), true},
        KindCase{"Api500", Error(Kind::kUnavailable, 500, "api_error"), true},
        KindCase{"BadGateway502", Error(Kind::kUnavailable, 502), true},
        KindCase{"Unavailable503", Error(Kind::kUnavailable, 503, "api_error"), true},
        KindCase{"GatewayTimeout504", Error(Kind::kUnavailable, 504, "timeout_error"), true},
        KindCase{"ConnectionFailure0", Error(Kind::kUnavailable, 0), true},
        KindCase{"MalformedAnswer200", Error(Kind::kUnavailable, 200), false},
        KindCase{"OddStatus418", Error(Kind::kUnavailable, 418), false},
        KindCase{"OddStatus501", Error(Kind::kUnavailable, 501), false},
        KindCase{"Rejected400", Error(Kind::kRejected, 400, "invalid_request_error"), false},
        KindCase{"Rejected404", Error(Kind::kRejected, 404, "not_found_error"), false},
        KindCase{"BadCredentials401", Error(Kind::kBadCredentials, 401), false},
        KindCase{"BadCredentials403", Error(Kind::kBadCredentials, 403), false},
        KindCase{"Timeout", Error(Kind::kTimeout, 0), false},
        KindCase{"Cancelled", Error(Kind::kCancelled, 0), false},
        KindCase{"Internal", Error(Kind::kInternal, 0), false},
        KindCase{"OverloadedLocally", Error(Kind::kOverloaded, 0), false}),
    [](const ::testing::TestParamInfo<KindCase>& info) { return info.param.name; });

// ---- how many times ---------------------------------------------------------------------------

TEST_F(RetryingProviderTest, SucceedsOnTheLastAllowedAttempt) {
  ScriptedProvider inner({Overloaded(), Overloaded()});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options()));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->content, "the answer");
  EXPECT_EQ(inner.complete_calls, 3);
}

TEST_F(RetryingProviderTest, ReturnsTheLastErrorWhenRetriesRunOut) {
  ScriptedProvider inner({Error(Kind::kUnavailable, 503, "api_error"), Overloaded(),
                          Error(Kind::kUnavailable, 502, "last"), Overloaded()});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options()));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kUnavailable);
  EXPECT_EQ(result.error().status, 502);
  EXPECT_EQ(result.error().error_type, "last");
  EXPECT_EQ(result.error().log_message, "scripted failure");
  EXPECT_EQ(inner.complete_calls, 3);
  EXPECT_EQ(logger_.Count("upstream_retry"), 2u);
}

TEST_F(RetryingProviderTest, MaxRetriesBoundsTheAttempts) {
  const struct {
    int max_retries;
    int expected_calls;
  } rows[] = {{0, 1}, {1, 2}, {2, 3}, {5, 6}};
  for (const auto& row : rows) {
    ScriptedProvider inner(std::vector<UpstreamError>(10, Overloaded()));
    RetryingProvider provider(inner, Policy(row.max_retries), logger_, zero_draw_);
    const auto result = RunToEnd(CompleteOnce(provider, Options()));
    EXPECT_FALSE(result.has_value());
    EXPECT_EQ(inner.complete_calls, row.expected_calls) << "max_retries " << row.max_retries;
  }
}

TEST_F(RetryingProviderTest, StopsAtTheFirstNonRetryableError) {
  ScriptedProvider inner({Overloaded(), Error(Kind::kRejected, 400, "invalid_request_error")});
  RetryingProvider provider(inner, Policy(5), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options()));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kRejected);
  EXPECT_EQ(inner.complete_calls, 2);
}

TEST_F(RetryingProviderTest, EveryAttemptGetsTheSameRequestAndDeadline) {
  ScriptedProvider inner({Overloaded(), Overloaded()});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const CallOptions options = Options();
  ASSERT_TRUE(RunToEnd(CompleteOnce(provider, options)).has_value());
  ASSERT_EQ(inner.requests_seen.size(), 3u);
  EXPECT_EQ(inner.requests_seen[1], inner.requests_seen[0]);
  EXPECT_EQ(inner.requests_seen[2], inner.requests_seen[0]);
  for (const Clock::time_point deadline : inner.deadlines_seen) {
    EXPECT_EQ(deadline, options.deadline);
  }
}

// ---- how long -----------------------------------------------------------------------------

TEST_F(RetryingProviderTest, BackoffDelaysComeFromTheDrawAndDouble) {
  // base 8 ms: ceilings 8 then 16; a draw of 0.5 picks floor(0.5 * 9) = 4, floor(0.5 * 17) = 8.
  FixedRandom half(0.5);
  ScriptedProvider inner({Overloaded(), Overloaded()});
  RetryingProvider provider(inner, Policy(2, 8ms, 1000ms), logger_, half);
  ASSERT_TRUE(RunToEnd(CompleteOnce(provider, Options())).has_value());
  const auto lines = logger_.LinesWithEvent("upstream_retry");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("delay_ms").as_int64(), 4);
  EXPECT_EQ(lines[1].at("delay_ms").as_int64(), 8);
  EXPECT_EQ(half.draws, 2);
}

TEST_F(RetryingProviderTest, BackoffCeilingStopsAtMaxDelay) {
  FixedRandom almost_one(0.999999);
  ScriptedProvider inner({});
  RetryingProvider provider(inner, Policy(9, 500ms, 8000ms), logger_, almost_one);
  const UpstreamError error = Overloaded();
  EXPECT_EQ(provider.DelayBeforeRetry(0, error), 500ms);
  EXPECT_EQ(provider.DelayBeforeRetry(1, error), 1000ms);
  EXPECT_EQ(provider.DelayBeforeRetry(4, error), 8000ms);
  EXPECT_EQ(provider.DelayBeforeRetry(8, error), 8000ms);
}

TEST_F(RetryingProviderTest, RetryAfterIsTheDelayAndNoDrawIsMade) {
  FixedRandom draw(0.9);
  ScriptedProvider inner({Error(Kind::kRateLimited, 429, "rate_limit_error", "0.004"),
                          Error(Kind::kUnavailable, 529, "overloaded_error", "0")});
  RetryingProvider provider(inner, Policy(2, 500ms, 8000ms, 60000ms), logger_, draw);
  ASSERT_TRUE(RunToEnd(CompleteOnce(provider, Options())).has_value());
  EXPECT_EQ(inner.complete_calls, 3);
  const auto lines = logger_.LinesWithEvent("upstream_retry");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("delay_ms").as_int64(), 4);
  EXPECT_EQ(lines[1].at("delay_ms").as_int64(), 0);
  EXPECT_EQ(draw.draws, 0);
}

TEST_F(RetryingProviderTest, RetryAfterIsCappedAtMaxServerDelay) {
  ScriptedProvider inner({});
  RetryingProvider provider(inner, Policy(2, 1ms, 1000ms, 3ms), logger_, zero_draw_);
  EXPECT_EQ(provider.DelayBeforeRetry(0, Error(Kind::kRateLimited, 429, "", "30")), 3ms);
  EXPECT_EQ(provider.DelayBeforeRetry(0, Error(Kind::kRateLimited, 429, "", "0.002")), 2ms);
  // An HTTP date long past means "now".
  EXPECT_EQ(provider.DelayBeforeRetry(
                0, Error(Kind::kRateLimited, 429, "", "Sun, 06 Nov 1994 08:49:37 GMT")),
            0ms);
  // Actually waited too: the capped delay is what the log reports.
  ScriptedProvider failing_once({Error(Kind::kRateLimited, 429, "rate_limit_error", "3600")});
  RetryingProvider capped(failing_once, Policy(2, 1ms, 1000ms, 3ms), logger_, zero_draw_);
  ASSERT_TRUE(RunToEnd(CompleteOnce(capped, Options())).has_value());
  EXPECT_EQ(logger_.LinesWithEvent("upstream_retry").at(0).at("delay_ms").as_int64(), 3);
}

TEST_F(RetryingProviderTest, UnusableRetryAfterFallsBackToBackoff) {
  FixedRandom half(0.5);
  ScriptedProvider inner({});
  RetryingProvider provider(inner, Policy(2, 100ms, 1000ms), logger_, half);
  for (const char* value : {"soon", "-5", "", "1e3"}) {
    EXPECT_EQ(provider.DelayBeforeRetry(0, Error(Kind::kRateLimited, 429, "", value)), 50ms)
        << value;
  }
  EXPECT_EQ(half.draws, 4);
}

// ---- deadline -----------------------------------------------------------------------------

TEST_F(RetryingProviderTest, DoesNotWaitPastTheDeadline) {
  // The upstream asks for two hours; the call has one: the 429 goes back at once.
  ScriptedProvider inner({Error(Kind::kRateLimited, 429, "rate_limit_error", "7200")});
  RetryingProvider provider(inner, Policy(2, 1ms, 1000ms, 3h), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options(1h)));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kRateLimited);
  EXPECT_EQ(result.error().retry_after, "7200");
  EXPECT_EQ(inner.complete_calls, 1);
  EXPECT_EQ(logger_.Count("upstream_retry"), 0u);
}

TEST_F(RetryingProviderTest, BackoffPastTheDeadlineIsNotBegun) {
  FixedRandom almost_one(0.999999);
  ScriptedProvider inner({Overloaded()});
  RetryingProvider provider(inner, Policy(2, 2h, 4h), logger_, almost_one);
  const auto result = RunToEnd(CompleteOnce(provider, Options(1h)));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().status, 529);
  EXPECT_EQ(inner.complete_calls, 1);
}

TEST_F(RetryingProviderTest, ADeadlineAlreadyPassedReturnsTheErrorItself) {
  ScriptedProvider inner({Overloaded()});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(CompleteOnce(provider, Options(-1s)));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kUnavailable);
  EXPECT_EQ(inner.complete_calls, 1);
}

// ---- cancellation -------------------------------------------------------------------------

struct CancelledRun {
  bool finished = false;
  std::exception_ptr exception;
  std::optional<UpstreamResult<core::Completion>> result;
};

// Starts CompleteOnce with a cancellation slot, runs until the inner provider was called
// `calls_before_cancel` times and everything ready has run, then emits terminal
// cancellation and runs to the end.
CancelledRun CancelAfterCalls(Provider& provider, const ScriptedProvider& inner,
                              int calls_before_cancel) {
  net::io_context io;
  net::cancellation_signal signal;
  CancelledRun run;
  net::co_spawn(
      io, CompleteOnce(provider, Options()),
      net::bind_cancellation_slot(signal.slot(), [&run](std::exception_ptr exception,
                                                        UpstreamResult<core::Completion> result) {
        run.finished = true;
        run.exception = exception;
        run.result = std::move(result);
      }));
  while (inner.complete_calls < calls_before_cancel && io.run_one_for(kSafetyBound) > 0) {
  }
  io.poll();  // Let the coroutine reach its wait.
  EXPECT_FALSE(run.finished) << "the call ended before it could be cancelled";
  signal.emit(net::cancellation_type::terminal);
  io.run_for(kSafetyBound);
  return run;
}

TEST_F(RetryingProviderTest, CancellationDuringTheBackoffWaitEndsTheCall) {
  // Half an hour's wait (Retry-After): only the cancellation can end it within the bound.
  ScriptedProvider inner({Error(Kind::kRateLimited, 429, "rate_limit_error", "1800")});
  RetryingProvider provider(inner, Policy(2, 1ms, 1000ms, 2h), logger_, zero_draw_);
  const CancelledRun run = CancelAfterCalls(provider, inner, 1);
  ASSERT_TRUE(run.finished) << "the wait was not cancelled";
  EXPECT_FALSE(run.exception);
  ASSERT_TRUE(run.result.has_value());
  ASSERT_FALSE(run.result->has_value());
  EXPECT_EQ(run.result->error().kind, Kind::kCancelled);
  EXPECT_EQ(inner.complete_calls, 1);
  EXPECT_EQ(logger_.Count("upstream_retry"), 1u);  // The retry was announced, never made.
}

TEST_F(RetryingProviderTest, CancellationDuringAnInnerCallIsNotRetried) {
  // The inner call ends with a retryable error because it was cut: no retry follows.
  ScriptedProvider inner({Overloaded()}, /*hang_first=*/true);
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const CancelledRun run = CancelAfterCalls(provider, inner, 1);
  ASSERT_TRUE(run.finished);
  EXPECT_FALSE(run.exception);
  ASSERT_TRUE(run.result.has_value());
  ASSERT_FALSE(run.result->has_value());
  EXPECT_EQ(run.result->error().kind, Kind::kCancelled);
  EXPECT_EQ(inner.complete_calls, 1);
  EXPECT_EQ(logger_.Count("upstream_retry"), 0u);
}

// ---- streams ------------------------------------------------------------------------------

TEST_F(RetryingProviderTest, OpenStreamIsRetriedTheSameWay) {
  ScriptedProvider inner(
      {Error(Kind::kUnavailable, 503, "api_error"), Error(Kind::kUnavailable, 0)});
  RetryingProvider provider(inner, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(StreamOnce(provider, Options()));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, "the answer");
  EXPECT_EQ(inner.open_stream_calls, 3);
  EXPECT_EQ(inner.complete_calls, 0);
  EXPECT_EQ(logger_.Count("upstream_retry"), 2u);
}

TEST_F(RetryingProviderTest, OpenStreamGivesUpLikeComplete) {
  ScriptedProvider exhausted(std::vector<UpstreamError>(3, Overloaded()));
  RetryingProvider provider(exhausted, Policy(2), logger_, zero_draw_);
  const auto result = RunToEnd(StreamOnce(provider, Options()));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().status, 529);
  EXPECT_EQ(exhausted.open_stream_calls, 3);

  ScriptedProvider rejected({Error(Kind::kRejected, 400, "invalid_request_error")});
  RetryingProvider once(rejected, Policy(2), logger_, zero_draw_);
  EXPECT_FALSE(RunToEnd(StreamOnce(once, Options())).has_value());
  EXPECT_EQ(rejected.open_stream_calls, 1);
}

// ---- logs, construction -------------------------------------------------------------------

TEST_F(RetryingProviderTest, LogsEachRetryWithItsCauseAndNothingElse) {
  FixedRandom half(0.5);
  ScriptedProvider inner({Overloaded(), Error(Kind::kRateLimited, 429, "rate_limit_error", "0")});
  RetryingProvider provider(inner, Policy(2, 10ms, 1000ms), logger_, half);
  ASSERT_TRUE(RunToEnd(CompleteOnce(provider, Options())).has_value());
  const auto lines = logger_.LinesWithEvent("upstream_retry");
  ASSERT_EQ(lines.size(), 2u);
  boost::json::object first{{"level", "WARNING"},
                            {"event", "upstream_retry"},
                            {"request_id", "req-retry-test"},
                            {"attempt", 1},
                            {"cause", "unavailable"},
                            {"status", 529},
                            {"error_type", "overloaded_error"},
                            {"delay_ms", 5}};
  boost::json::object second{{"level", "WARNING"},
                             {"event", "upstream_retry"},
                             {"request_id", "req-retry-test"},
                             {"attempt", 2},
                             {"cause", "rate_limited"},
                             {"status", 429},
                             {"error_type", "rate_limit_error"},
                             {"delay_ms", 0}};
  EXPECT_EQ(lines[0], first);
  EXPECT_EQ(lines[1], second);
  for (const auto& line : logger_.Lines()) {
    EXPECT_EQ(boost::json::serialize(line).find("secret prompt"), std::string::npos);
  }
}

TEST_F(RetryingProviderTest, DescribesTheInnerProvider) {
  ScriptedProvider inner({});
  const RetryingProvider provider(inner, Policy(2), logger_);
  EXPECT_EQ(provider.Describe(), "scripted://upstream");
}

TEST_F(RetryingProviderTest, RejectsNegativePolicyFields) {
  ScriptedProvider inner({});
  EXPECT_THROW(RetryingProvider(inner, Policy(-1), logger_), std::invalid_argument);
  EXPECT_THROW(RetryingProvider(inner, Policy(1, -1ms), logger_), std::invalid_argument);
  EXPECT_THROW(RetryingProvider(inner, Policy(1, 1ms, -1ms), logger_), std::invalid_argument);
  EXPECT_THROW(RetryingProvider(inner, Policy(1, 1ms, 1ms, -1ms), logger_), std::invalid_argument);
  EXPECT_NO_THROW(RetryingProvider(inner, Policy(0, 0ms, 0ms, 0ms), logger_));
}

TEST_F(RetryingProviderTest, DefaultRandomSourceStillRetries) {
  ScriptedProvider inner({Overloaded()});
  RetryingProvider provider(inner, Policy(1, 1ms, 1ms), logger_);
  ASSERT_TRUE(RunToEnd(CompleteOnce(provider, Options())).has_value());
  EXPECT_EQ(inner.complete_calls, 2);
  const std::int64_t delay =
      logger_.LinesWithEvent("upstream_retry").at(0).at("delay_ms").as_int64();
  EXPECT_GE(delay, 0);
  EXPECT_LE(delay, 1);
}

}  // namespace
}  // namespace cms::upstream
