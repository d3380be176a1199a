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
  return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                     [origin](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

void CorsPolicy::AddResponseHeaders(std::string_view origin,
                                    boost::beast::http::fields& fields) const {
  if (!Allows(origin)) return;
  // Echo the origin rather than "*": responses differ per origin, so caches must key on it.
  fields.set(boost::beast::http::field::access_control_allow_origin, origin);
  fields.set(boost::beast::http::field::vary, "Origin");
  fields.set(boost::beast::http::field::access_control_expose_headers, kExposeHeaders);
}

bool CorsPolicy::AddPreflightHeaders(std::string_view origin,
                                     boost::beast::http::fields& fields) const {
  if (!Allows(origin)) return false;
  fields.set(boost::beast::http::field::access_control_allow_origin, origin);
  fields.set(boost::beast::http::field::vary, "Origin");
  fields.set(boost::beast::http::field::access_control_allow_methods, kAllowMethods);
  fields.set(boost::beast::http::field::access_control_allow_headers, kAllowHeaders);
  fields.set(boost::beast::http::field::access_control_max_age, kMaxAgeSeconds);
  return true;
}

}  // namespace cms::http
