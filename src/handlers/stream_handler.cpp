#include "handlers/stream_handler.hpp"

#include <memory>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "api/error_response.hpp"
#include "handlers/admission.hpp"
#include "handlers/cache_access.hpp"
#include "handlers/respond.hpp"
#include "handlers/stream_relay.hpp"
#include "handlers/upstream_log.hpp"

namespace cms::handlers {

namespace {

void LogStreamEnd(observability::Logger& logger, std::string_view request_id,
                  const RelayReport& report, bool cached) {
  const std::int64_t output_tokens = report.completion ? report.completion->usage.output_tokens : 0;
  logger.Info("stream_end", request_id,
              {{"chunks", report.chunks},
               {"output_tokens", output_tokens},
               {"outcome", StreamOutcomeName(report.outcome)},
               {"cached", cached}});
}

// The caller left, or the drain's grace period ended, before the stream began.
Task<void> EndForDepartedCaller(observability::Logger& logger, http::Exchange& exchange) {
  if (exchange.ServerTerminating()) {
    co_await RespondDetail(exchange, http::bhttp::status::service_unavailable,
                           api::kShuttingDownDetail);
  }
  LogStreamEnd(logger, exchange.RequestId(), RelayReport{}, /*cached=*/false);
}
}  // namespace

Task<void> StreamHandler::RefuseBeforeStart(http::Exchange& exchange,
                                            upstream::UpstreamError error) {
  // Nothing was sent yet: the caller gets the ordinary HTTP error, not a 200 stream.
  LogAnthropicError(context_.logger, exchange.RequestId(), error);
  co_await RespondUpstreamError(exchange, error);
  RelayReport report;
  report.outcome = StreamOutcome::kUpstreamError;
  LogStreamEnd(context_.logger, exchange.RequestId(), report, /*cached=*/false);
}

Task<void> StreamHandler::Handle(http::Exchange& exchange) {
  auto admitted = co_await Admit(context_, exchange);
  if (!admitted) co_return;
  const cache::CacheKey key = cache::CanonicalKey(admitted->request);
  if (co_await ReplayCached(exchange, key)) co_return;
  std::optional<OpenedStream> opened = co_await Open(exchange, admitted->request);
  if (!opened) co_return;
  co_await Relay(exchange, std::move(*opened), key);
}

Task<bool> StreamHandler::ReplayCached(http::Exchange& exchange, const cache::CacheKey& key) {
  auto hit = co_await LookupCached(context_, key, exchange.RequestId());
  if (!hit) co_return false;
  RelayReport report;
  // The whole answer is at hand: the head leaves with the first events (all of them, for an
  // answer under one write).
  if (co_await exchange.BeginEventStream({}, http::Exchange::HeadTiming::kWithFirstEvents)) {
    report = co_await ReplayStream(**hit, exchange, context_.settings.replay_chunk_bytes);
  }
  LogStreamEnd(context_.logger, exchange.RequestId(), report, /*cached=*/true);
  co_return true;
}

Task<std::optional<StreamHandler::OpenedStream>> StreamHandler::Open(
    http::Exchange& exchange, const core::CompletionRequest& request) {
  const std::string_view request_id = exchange.RequestId();
  // Until the stream begins, the caller's watch cancels what this waits on when it leaves.
  const http::CallerMonitor::Watch watch = exchange.WatchCaller();
  // A slot for the whole stream; when none frees up in time the caller is shed with 503.
  std::optional<limits::UpstreamGate::Permit> permit = context_.upstream_gate.TryAcquire();
  if (!permit) {
    if (!watch.CallerGone()) {
      auto [failure, acquired] = co_await net::co_spawn(
          co_await net::this_coro::executor, context_.upstream_gate.Acquire(),
          net::bind_cancellation_slot(watch.Slot(), kAsTuple));
      // Acquire throws only when cancelled, and only the watch cancels it.
      if (failure && !watch.CallerGone()) std::rethrow_exception(failure);
      permit = std::move(acquired);
    }
    if (watch.CallerGone()) {
      LogStreamEnd(context_.logger, request_id, RelayReport{}, /*cached=*/false);
      co_return std::nullopt;
    }
  }
  if (!permit) {
    co_await RefuseBeforeStart(
        exchange, upstream::MakeUpstreamError(upstream::UpstreamErrorKind::kOverloaded,
                                              "MAX_CONCURRENT_UPSTREAM reached and the wait "
                                              "queue is full or timed out"));
    co_return std::nullopt;
  }

  LogAnthropicRequest(context_.logger, request_id, request, /*stream=*/true);
  const auto started = Clock::now();
  const upstream::CallOptions options{exchange.ArrivedAt() + context_.settings.upstream_timeout,
                                      request_id};
  SteadyTimer first_byte_deadline{co_await net::this_coro::executor,
                                  Clock::now() + context_.settings.first_byte_timeout};
  // One parallel group: the upstream call's coroutine against the first-byte timer, cancelled
  // by the caller's watch when the caller leaves.
  if (watch.CallerGone()) {
    co_await EndForDepartedCaller(context_.logger, exchange);
    co_return std::nullopt;
  }
  auto [order, failure, stream, deadline_error] =
      co_await net::experimental::make_parallel_group(
          net::co_spawn(co_await net::this_coro::executor,
                        context_.provider.OpenStream(request, options), net::deferred),
          first_byte_deadline.async_wait(net::deferred))
          .async_wait(net::experimental::wait_for_one(),
                      net::bind_cancellation_slot(watch.Slot(), kUseTask));
  if (watch.CallerGone()) {
    co_await EndForDepartedCaller(context_.logger, exchange);
    co_return std::nullopt;
  }
  if (order[0] == 1) {
    // The upstream accepted the connection but has not begun answering: the stream's own
    // deadline, shorter than the whole call's (UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS).
    co_await RefuseBeforeStart(
        exchange, upstream::MakeUpstreamError(upstream::UpstreamErrorKind::kTimeout,
                                              "no response head within the first byte timeout"));
    co_return std::nullopt;
  }
  // What the call threw reaches this caller: the server answers 500.
  if (failure) std::rethrow_exception(failure);
  if (!stream) {
    co_await RefuseBeforeStart(exchange, stream.error());
    co_return std::nullopt;
  }
  co_return OpenedStream{std::move(*permit), std::move(*stream), started};
}

Task<void> StreamHandler::Relay(http::Exchange& exchange, OpenedStream opened,
                                const cache::CacheKey& key) {
  const std::string_view request_id = exchange.RequestId();
  RelayReport report;
  // When the upstream's head came with the first events, ours leaves with them.
  const auto timing = opened.stream->HasReadyEvent() ? http::Exchange::HeadTiming::kWithFirstEvents
                                                     : http::Exchange::HeadTiming::kNow;
  if (co_await exchange.BeginEventStream({}, timing)) {
    report = co_await RelayStream(
        *opened.stream, exchange,
        RelayOptions{context_.settings.stream_heartbeat, context_.settings.stream_buffer_events});
  }
  // Close the upstream side now (an unfinished stream drops its connection) rather than
  // when this frame unwinds.
  opened.stream.reset();

  if (report.outcome == StreamOutcome::kCompleted) {
    LogAnthropicResponse(context_.logger, request_id, *report.completion,
                         MillisecondsSince(opened.started));
    co_await StoreCompleted(
        context_, key, std::make_shared<const core::Completion>(*report.completion), request_id);
  } else if (report.outcome == StreamOutcome::kUpstreamError) {
    LogAnthropicError(context_.logger, request_id, *report.error);
  }
  LogStreamEnd(context_.logger, request_id, report, /*cached=*/false);
}

}  // namespace cms::handlers
