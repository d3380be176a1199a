#include "handlers/upstream_log.hpp"

namespace cms::handlers {

void LogAnthropicRequest(observability::Logger& logger, std::string_view request_id,
                         const core::CompletionRequest& request, bool stream) {
  logger.Info("anthropic_request", request_id,
              {{"model", request.model},
               {"message_count", request.messages.size()},
               {"max_tokens", request.max_tokens},
               {"cache_system", request.cache_system},
               {"stream", stream}});
}

void LogAnthropicResponse(observability::Logger& logger, std::string_view request_id,
                          const core::Completion& completion, double latency_ms) {
  logger.Info("anthropic_response", request_id,
              {{"model", completion.model},
               {"input_tokens", completion.usage.input_tokens},
               {"output_tokens", completion.usage.output_tokens},
               {"cache_read_input_tokens", completion.usage.cache_read_input_tokens},
               {"cache_creation_input_tokens", completion.usage.cache_creation_input_tokens},
               {"stop_reason", completion.stop_reason},
               {"latency_ms", latency_ms}});
}

void LogAnthropicError(observability::Logger& logger, std::string_view request_id,
                       const upstream::UpstreamError& error) {
  logger.Warning("anthropic_error", request_id,
                 {{"status", error.status},
                  {"error_type", error.error_type},
                  {"kind", upstream::UpstreamErrorKindName(error.kind)},
                  {"detail", error.log_message}});
}

}  // namespace cms::handlers
