// File: handlers/health_handler.hpp
//
// GET /health (liveness: the process serves requests) and GET /health/ready (readiness:
// every configured dependency answers and the service is not draining). Load balancers take
// a replica out on a 503 from /health/ready; liveness stays 200 while draining so the
// orchestrator does not kill a replica that is finishing its streams.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "http/exchange.hpp"

namespace cms::handlers {

class HealthHandler final : public http::Handler {
 public:
  Task<void> Handle(http::Exchange& exchange) override;
};

// One dependency readiness depends on (a store, Redis...). Thread-safe.
class ReadinessCheck {
 public:
  virtual ~ReadinessCheck() = default;
  [[nodiscard]] virtual std::string Name() const = 0;
  // True when the dependency answers now. Must bound its own wait.
  virtual Task<bool> Check() = 0;
};

class ReadinessHandler final : public http::Handler {
 public:
  // `draining` is set by the App when shutdown begins. Checks are borrowed.
  ReadinessHandler(const std::atomic<bool>& draining, std::vector<ReadinessCheck*> checks)
      : draining_(draining), checks_(std::move(checks)) {}
  Task<void> Handle(http::Exchange& exchange) override;

 private:
  const std::atomic<bool>& draining_;
  const std::vector<ReadinessCheck*> checks_;
};

}  // namespace cms::handlers
