#include "http/cors.hpp"

#include <algorithm>

namespace cms::http {

namespace {
constexpr std::string_view kAllowMethods = "GET, POST";
constexpr std::string_view kAllowHeaders = "X-API-Key, Content-Type, X-Request-Id";
constexpr std::string_view kExposeHeaders = "X-Request-Id";
constexpr std::string_view kMaxAgeSeconds = "600";
}  // namespace

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (allow_any_origin) return true;
  return std::any_of(
      allowed_origins.begin(), allowed_origins.end(),
      [origin](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

void CorsPolicy::AddResponseHeaders(std::string_view origin, ResponseHead& head) const {
  if (!Allows(origin)) return;
  // Echo the origin rather than "*": responses differ per origin, so caches must key on it.
  head.Add("Access-Control-Allow-Origin", origin);
  head.Add("Vary", "Origin");
  head.Add("Access-Control-Expose-Headers", kExposeHeaders);
}

bool CorsPolicy::AddPreflightHeaders(std::string_view origin, HeaderList& headers) const {
  if (!Allows(origin)) return false;
  // Allow-Origin and Vary come with every response to an allowed origin (AddResponseHeaders).
  headers.emplace_back("Access-Control-Allow-Methods", kAllowMethods);
  headers.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
  headers.emplace_back("Access-Control-Max-Age", kMaxAgeSeconds);
  return true;
}

}  // namespace cms::http
