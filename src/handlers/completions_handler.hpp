// File: handlers/completions_handler.hpp
//
// POST /v1/completions (CONTRACT.md section 4): one completed answer as JSON, from the cache
// when an identical request was answered within the TTL, else from the upstream. A caller
// that disconnects while the upstream works cancels the upstream call.
#pragma once

#include "handlers/handler_context.hpp"
#include "http/exchange.hpp"

namespace cms::handlers {

class CompletionsHandler final : public http::Handler {
 public:
  explicit CompletionsHandler(const HandlerContext& context) : context_(context) {}
  Task<void> Handle(http::Exchange& exchange) override;

 private:
  const HandlerContext& context_;
};

}  // namespace cms::handlers
