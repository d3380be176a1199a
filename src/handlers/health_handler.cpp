#include "handlers/health_handler.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace cms::handlers {

using http::bhttp::status;

Task<void> HealthHandler::Handle(http::Exchange& exchange) {
  static constexpr std::string_view kBody =
      R"({"status":"ok","service":"claude-microservice","version":")" CMS_VERSION R"("})";
  co_await exchange.Respond(status::ok, std::string(kBody));
}

Task<void> ReadinessHandler::Handle(http::Exchange& exchange) {
  if (draining_.load(std::memory_order_relaxed)) {
    co_await exchange.Respond(status::service_unavailable,
                              R"({"status":"draining","detail":"Service is shutting down"})");
    co_return;
  }
  boost::json::object checks;
  bool ready = true;
  for (ReadinessCheck* check : checks_) {
    const bool ok = co_await check->Check();
    ready = ready && ok;
    checks[check->Name()] = ok ? "ok" : "unavailable";
  }
  boost::json::object body{{"status", ready ? "ready" : "unavailable"}, {"checks", checks}};
  co_await exchange.Respond(ready ? status::ok : status::service_unavailable,
                            boost::json::serialize(body));
}

}  // namespace cms::handlers
