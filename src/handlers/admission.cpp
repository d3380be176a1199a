#include "handlers/admission.hpp"

#include <string>

#include "api/error_response.hpp"
#include "api/validation_issue.hpp"
#include "handlers/respond.hpp"

namespace cms::handlers {

namespace {
using http::bhttp::status;

// The exchange's X-API-Key, or an empty view when absent.
std::string_view PresentedKey(const http::Exchange& exchange) {
  return exchange.Header("X-API-Key");
}
}  // namespace

Task<std::optional<AdmittedRequest>> Admit(const HandlerContext& context,
                                           http::Exchange& exchange) {
  const std::string_view key = PresentedKey(exchange);
  if (key.empty()) {
    co_await RespondDetail(exchange, status::unauthorized, api::kMissingApiKeyDetail);
    co_return std::nullopt;
  }
  auto caller = co_await context.key_store.Authenticate(key);
  if (!caller) {
    // Fail closed: an unreachable key store admits nobody.
    context.logger.Error("key_store_error", exchange.RequestId(),
                         {{"error", caller.error().log_message}});
    co_await RespondDetail(exchange, status::service_unavailable, api::kAuthUnavailableDetail);
    co_return std::nullopt;
  }
  if (!caller->has_value()) {
    co_await RespondDetail(exchange, status::forbidden, api::kInvalidApiKeyDetail);
    co_return std::nullopt;
  }

  auto decision = co_await context.limiter.Admit((*caller)->key_id);
  if (decision && !decision->allowed) {
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(decision->retry_after).count();
    http::HeaderList headers;
    headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, seconds)));
    co_await exchange.Respond(status::too_many_requests,
                              api::DetailBody(api::kCallerRateLimitedDetail, exchange.RequestId()),
                              std::move(headers));
    co_return std::nullopt;
  }
  if (!decision) {
    // The embedded limiter cannot fail; a networked one fails open until its policy is
    // configurable (ARCHITECTURE.md): serving beats refusing everyone on a limiter outage.
    context.logger.Warning("limiter_error", exchange.RequestId(),
                           {{"error", decision.error().log_message}});
  }

  auto body = co_await exchange.ReadBody();
  if (!body) {
    if (body.error() == http::BodyError::kTooLarge) {
      co_await RespondDetail(exchange, status::payload_too_large, api::kBodyTooLargeDetail);
    }
    co_return std::nullopt;
  }
  auto parsed = api::ParseCompletionRequest(*body, context.settings.limits);
  if (!parsed) {
    co_await exchange.Respond(status::unprocessable_entity,
                              api::ValidationErrorBody(parsed.error(), exchange.RequestId()));
    co_return std::nullopt;
  }
  co_return AdmittedRequest{std::move(**caller), std::move(*parsed)};
}

}  // namespace cms::handlers
