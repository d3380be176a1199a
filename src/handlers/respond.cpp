#include "handlers/respond.hpp"

#include "api/error_response.hpp"

namespace cms::handlers {

Task<void> RespondDetail(http::Exchange& exchange, http::bhttp::status status,
                         std::string_view detail) {
  co_await exchange.Respond(status, api::DetailBody(detail, exchange.RequestId()));
}

Task<void> RespondUpstreamError(http::Exchange& exchange, const upstream::UpstreamError& error) {
  api::ErrorReply reply = api::UpstreamErrorReply(error, exchange.RequestId());
  http::HeaderList headers;
  if (reply.retry_after) headers.emplace_back("Retry-After", *reply.retry_after);
  co_await exchange.Respond(static_cast<http::bhttp::status>(reply.status), std::move(reply.body),
                            std::move(headers));
}

}  // namespace cms::handlers
