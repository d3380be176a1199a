// File: handlers/admission.hpp
//
// The steps every completion request passes before any model work, in the contract's order:
// authenticate (X-API-Key; before the body is read), rate limit, read the body (413 beyond
// MAX_REQUEST_BYTES), parse and validate it (422 with every problem). Each refusal is
// answered here with the contract's status and body; the caller only sees an admitted request.
#pragma once

#include <optional>

#include "core/completion.hpp"
#include "handlers/handler_context.hpp"
#include "http/exchange.hpp"
#include "store/key_store.hpp"

namespace cms::handlers {

struct AdmittedRequest {
  store::Caller caller;
  core::CompletionRequest request;
};

// The admitted request, or std::nullopt when it was refused (and answered, unless the
// client is gone).
Task<std::optional<AdmittedRequest>> Admit(const HandlerContext& context, http::Exchange& exchange);

}  // namespace cms::handlers
