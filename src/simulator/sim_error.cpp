#include "simulator/sim_error.hpp"

#include "simulator/sim_json.hpp"

namespace cms::simulator {

unsigned StatusOf(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::kInvalidRequest:
      return 400;
    case ApiErrorKind::kAuthentication:
      return 401;
    case ApiErrorKind::kPermission:
      return 403;
    case ApiErrorKind::kNotFound:
      return 404;
    case ApiErrorKind::kRequestTooLarge:
      return 413;
    case ApiErrorKind::kRateLimit:
      return 429;
    case ApiErrorKind::kApi:
      return 500;
    case ApiErrorKind::kUnavailable:
      return 503;
    case ApiErrorKind::kOverloaded:
      return 529;
  }
  return 500;
}

std::string_view TypeOf(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::kInvalidRequest:
      return "invalid_request_error";
    case ApiErrorKind::kAuthentication:
      return "authentication_error";
    case ApiErrorKind::kPermission:
      return "permission_error";
    case ApiErrorKind::kNotFound:
      return "not_found_error";
    case ApiErrorKind::kRequestTooLarge:
      return "request_too_large";
    case ApiErrorKind::kRateLimit:
      return "rate_limit_error";
    case ApiErrorKind::kApi:
    case ApiErrorKind::kUnavailable:
      return "api_error";
    case ApiErrorKind::kOverloaded:
      return "overloaded_error";
  }
  return "api_error";
}

std::string_view DefaultMessageOf(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::kInvalidRequest:
      return "simulated invalid request";
    case ApiErrorKind::kAuthentication:
      return "invalid x-api-key";
    case ApiErrorKind::kPermission:
      return "Your API key does not have permission to use the specified resource.";
    case ApiErrorKind::kNotFound:
      return "The requested resource could not be found.";
    case ApiErrorKind::kRequestTooLarge:
      return "Request exceeds the maximum allowed number of bytes.";
    case ApiErrorKind::kRateLimit:
      return "Number of request tokens has exceeded your per-minute rate limit (simulated).";
    case ApiErrorKind::kApi:
      return "Internal server error";
    case ApiErrorKind::kUnavailable:
      return "Service unavailable";
    case ApiErrorKind::kOverloaded:
      return "Overloaded";
  }
  return "Internal server error";
}

namespace {

void AppendErrorObject(std::string& out, const ApiError& error) {
  out.append(R"({"type":"error","error":{"type":")");
  out.append(TypeOf(error.kind));
  out.append(R"(","message":)");
  AppendJsonString(out, error.message);
  out.push_back('}');
}

}  // namespace

std::string RenderErrorBody(const ApiError& error, std::string_view request_id) {
  std::string body;
  body.reserve(96 + error.message.size() + request_id.size());
  AppendErrorObject(body, error);
  body.append(R"(,"request_id":)");
  AppendJsonString(body, request_id);
  body.push_back('}');
  return body;
}

std::string RenderErrorEvent(const ApiError& error) {
  std::string event;
  event.reserve(96 + error.message.size());
  event.append("event: error\ndata: ");
  AppendErrorObject(event, error);
  event.append("}\n\n");
  return event;
}

}  // namespace cms::simulator
