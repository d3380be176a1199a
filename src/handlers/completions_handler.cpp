#include "handlers/completions_handler.hpp"

#include <exception>
#include <memory>
#include <tuple>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/this_coro.hpp>

#include "api/completion_response.hpp"
#include "api/error_response.hpp"
#include "handlers/admission.hpp"
#include "handlers/cache_access.hpp"
#include "handlers/respond.hpp"
#include "handlers/upstream_call.hpp"
#include "handlers/upstream_log.hpp"

namespace cms::handlers {

namespace {
using http::bhttp::status;
}  // namespace

Task<void> CompletionsHandler::Handle(http::Exchange& exchange) {
  auto admitted = co_await Admit(context_, exchange);
  if (!admitted) co_return;
  const std::string_view request_id = exchange.RequestId();
  // Shared, not copied: the upstream call may outlive this caller (coalescing).
  auto request = std::make_shared<const core::CompletionRequest>(std::move(admitted->request));

  const cache::CacheKey key = cache::CanonicalKey(*request);
  if (auto hit = co_await LookupCached(context_, key, request_id)) {
    co_await exchange.Respond(
        status::ok, api::RenderCompletionResponse(**hit, request_id, /*cached=*/true,
                                                  MillisecondsSince(exchange.ArrivedAt())));
    co_return;
  }

  // Identical misses in flight share one upstream call. The call is not this caller's: if it
  // leaves, the others still get their answer; when the last one leaves, the call is
  // cancelled, so nobody pays for tokens no one will read.
  // Called once per flight, so it hands its captures over instead of copying them.
  // (`flight_key` is a copy that is not const, as `key` is, so it can be moved.)
  CompletionFlights::Work work =
      [&context = context_, request, flight_key = key, id = std::string(request_id),
       deadline = exchange.ArrivedAt() + context_.settings.upstream_timeout]() mutable {
        return CallUpstreamOnce(context, std::move(request), std::move(flight_key), std::move(id),
                                deadline);
      };
  // The caller's watch cancels this caller's wait for the flight when it leaves: one
  // readiness wait on its socket, no parallel group and no coroutine of its own. It ends
  // before the answer is written.
  std::exception_ptr failure;
  CompletionFlights::Outcome flight;
  bool caller_left = false;
  {
    const http::CallerMonitor::Watch watch = exchange.WatchCaller();
    if (!watch.CallerGone()) {
      std::tie(failure, flight) = co_await context_.flights.AsyncRun(
          co_await net::this_coro::executor, key, std::move(work),
          net::bind_cancellation_slot(watch.Slot(), kAsTuple));
    }
    // An answer that was ready before the caller left is still sent; the write finds out.
    caller_left = watch.CallerGone() && !flight.result;
  }
  if (caller_left) {
    if (exchange.ServerTerminating()) {
      co_await RespondDetail(exchange, status::service_unavailable, api::kShuttingDownDetail);
      co_return;
    }
    context_.logger.Info("client_disconnected", request_id, {{"phase", "upstream_call"}});
    co_return;
  }
  // What the work threw reaches this caller as it did the flight: the server answers 500.
  if (failure) std::rethrow_exception(failure);
  if (flight.joined) context_.logger.Info("request_coalesced", request_id, {});
  const upstream::UpstreamResult<core::Completion>& result = *flight.result;
  if (!result) {
    co_await RespondUpstreamError(exchange, result.error());
    co_return;
  }
  // A coalesced caller's answer came from another caller's upstream call: like a cache hit,
  // it is marked cached.
  co_await exchange.Respond(
      status::ok, api::RenderCompletionResponse(*result, request_id, /*cached=*/flight.joined,
                                                MillisecondsSince(exchange.ArrivedAt())));
}

}  // namespace cms::handlers
