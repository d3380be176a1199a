#include "handlers/completions_handler.hpp"

#include <memory>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "api/completion_response.hpp"
#include "api/error_response.hpp"
#include "handlers/admission.hpp"
#include "handlers/cache_access.hpp"
#include "handlers/respond.hpp"
#include "handlers/upstream_log.hpp"

namespace cms::handlers {

namespace {
using boost::asio::experimental::awaitable_operators::operator||;
using http::bhttp::status;

}  // namespace

Task<void> CompletionsHandler::Handle(http::Exchange& exchange) {
  auto admitted = co_await Admit(context_, exchange);
  if (!admitted) co_return;
  const core::CompletionRequest& request = admitted->request;
  const std::string_view request_id = exchange.RequestId();

  const cache::CacheKey key = cache::CanonicalKey(request);
  if (auto hit = co_await LookupCached(context_, key, request_id)) {
    co_await exchange.Respond(status::ok,
                              api::RenderCompletionResponse(**hit, request_id, /*cached=*/true,
                                                            MillisecondsSince(exchange.ArrivedAt())));
    co_return;
  }

  LogAnthropicRequest(context_.logger, request_id, request, /*stream=*/false);
  const auto started = Clock::now();
  const upstream::CallOptions options{exchange.ArrivedAt() + context_.settings.upstream_timeout,
                                      request_id};
  // Whichever ends first wins: the answer, or the caller leaving (which cancels the call,
  // so nobody pays for tokens no one will read).
  auto outcome =
      co_await (context_.provider.Complete(request, options) || exchange.WaitUntilClientGone());
  if (outcome.index() == 1) {
    if (exchange.ServerTerminating()) {
      co_await RespondDetail(exchange, status::service_unavailable, api::kShuttingDownDetail);
      co_return;
    }
    context_.logger.Info("client_disconnected", request_id, {{"phase", "upstream_call"}});
    co_return;
  }
  auto& result = std::get<0>(outcome);
  if (!result) {
    LogAnthropicError(context_.logger, request_id, result.error());
    co_await RespondUpstreamError(exchange, result.error());
    co_return;
  }
  LogAnthropicResponse(context_.logger, request_id, *result, MillisecondsSince(started));
  auto completion = std::make_shared<const core::Completion>(std::move(*result));
  co_await StoreCompleted(context_, key, completion, request_id);
  co_await exchange.Respond(status::ok,
                            api::RenderCompletionResponse(*completion, request_id,
                                                          /*cached=*/false,
                                                          MillisecondsSince(exchange.ArrivedAt())));
}

}  // namespace cms::handlers
