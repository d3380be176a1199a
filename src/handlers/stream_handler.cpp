#include "handlers/stream_handler.hpp"

#include <memory>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "handlers/admission.hpp"
#include "handlers/cache_access.hpp"
#include "handlers/respond.hpp"
#include "handlers/stream_relay.hpp"
#include "handlers/upstream_log.hpp"

namespace cms::handlers {

namespace {
using boost::asio::experimental::awaitable_operators::operator||;

void LogStreamEnd(observability::Logger& logger, std::string_view request_id,
                  const RelayReport& report, bool cached) {
  const std::int64_t output_tokens =
      report.completion ? report.completion->usage.output_tokens : 0;
  logger.Info("stream_end", request_id,
              {{"chunks", report.chunks},
               {"output_tokens", output_tokens},
               {"outcome", StreamOutcomeName(report.outcome)},
               {"cached", cached}});
}
}  // namespace

Task<void> StreamHandler::Handle(http::Exchange& exchange) {
  auto admitted = co_await Admit(context_, exchange);
  if (!admitted) co_return;
  const core::CompletionRequest& request = admitted->request;
  const std::string_view request_id = exchange.RequestId();

  const cache::CacheKey key = cache::CanonicalKey(request);
  if (auto hit = co_await LookupCached(context_, key, request_id)) {
    RelayReport report;
    if (co_await exchange.BeginEventStream()) {
      report = co_await ReplayStream(**hit, exchange, context_.settings.replay_chunk_bytes);
    }
    LogStreamEnd(context_.logger, request_id, report, /*cached=*/true);
    co_return;
  }

  LogAnthropicRequest(context_.logger, request_id, request, /*stream=*/true);
  const auto started = Clock::now();
  const upstream::CallOptions options{exchange.ArrivedAt() + context_.settings.upstream_timeout,
                                      request_id};
  auto opened =
      co_await (context_.provider.OpenStream(request, options) || exchange.WaitUntilClientGone());
  if (opened.index() == 1) {
    LogStreamEnd(context_.logger, request_id, RelayReport{}, /*cached=*/false);
    co_return;
  }
  auto& stream = std::get<0>(opened);
  if (!stream) {
    // Nothing was sent yet: the caller gets the ordinary HTTP error.
    LogAnthropicError(context_.logger, request_id, stream.error());
    co_await RespondUpstreamError(exchange, stream.error());
    co_return;
  }

  RelayReport report;
  if (co_await exchange.BeginEventStream()) {
    report = co_await RelayStream(**stream, exchange,
                                  RelayOptions{context_.settings.stream_heartbeat,
                                               context_.settings.stream_buffer_events});
  }
  // Close the upstream side now (an unfinished stream drops its connection) rather than
  // when this frame unwinds.
  stream->reset();

  if (report.outcome == StreamOutcome::kCompleted) {
    LogAnthropicResponse(context_.logger, request_id, *report.completion,
                         MillisecondsSince(started));
    co_await StoreCompleted(context_, key,
                            std::make_shared<const core::Completion>(*report.completion),
                            request_id);
  } else if (report.outcome == StreamOutcome::kUpstreamError) {
    LogAnthropicError(context_.logger, request_id, *report.error);
  }
  LogStreamEnd(context_.logger, request_id, report, /*cached=*/false);
}

}  // namespace cms::handlers
