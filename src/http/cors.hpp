// File: http/cors.hpp
//
// CorsPolicy: which browser origins may call us (CONTRACT.md section 9). Immutable after
// startup. Allowed methods GET and POST; allowed request headers X-API-Key, Content-Type,
// X-Request-Id; exposed header X-Request-Id; preflight answered 204.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/response_head.hpp"

namespace cms::http {

struct CorsPolicy {
  bool allow_any_origin = false;             // Development: every origin is allowed.
  std::vector<std::string> allowed_origins;  // Exact origins, e.g. "https://app.example.com".

  // True when a request from `origin` may read our response.
  [[nodiscard]] bool Allows(std::string_view origin) const;

  // Adds Access-Control-Allow-Origin, Vary and Access-Control-Expose-Headers for an actual
  // (non-preflight) response when `origin` is allowed; adds nothing otherwise.
  void AddResponseHeaders(std::string_view origin, ResponseHead& head) const;

  // Adds what a preflight answer carries beyond AddResponseHeaders (allowed methods and
  // headers, max age) when `origin` is allowed. Returns false (adding nothing) when it is not.
  bool AddPreflightHeaders(std::string_view origin, HeaderList& headers) const;
};

}  // namespace cms::http
