// File: app/app.hpp
//
// App: owns every part of the running service and wires them together, in dependency order
// so they are destroyed in reverse: settings, logger, workers, (development) the built-in
// simulator, cache, key store, limiter, provider, handlers, router, server. No part reaches
// for another through a global; each gets references in its constructor.
//
// Lifecycle: construct (throws std::exception on a startup failure, before any port is
// bound), Run() until SIGTERM/SIGINT, which drains: readiness turns 503 at once, the
// listener closes, requests and streams in progress get SHUTDOWN_GRACE_SECONDS, then the
// process exits.
#pragma once

#include <atomic>
#include <memory>

#include "config/settings.hpp"
#include "cache/response_cache.hpp"
#include "core/worker_pool.hpp"
#include "handlers/completions_handler.hpp"
#include "handlers/handler_context.hpp"
#include "handlers/health_handler.hpp"
#include "handlers/stream_handler.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observability/json_logger.hpp"

namespace cms::simulator {
class Simulator;
}
namespace cms::store {
class StaticKeyStore;
}
namespace cms::limits {
class MemoryLimiter;
}

namespace cms::app {

class App {
 public:
  explicit App(config::Settings settings);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Binds, serves until SIGTERM/SIGINT, drains. Returns the process exit code.
  // REQUIRES: BlockTerminationSignals() was called before construction.
  int Run();

 private:
  void StartBuiltInSimulator();
  void StartCacheSweeper();
  void LogStartup();

  // Constant after construction.
  const config::Settings settings_;
  observability::JsonLogger logger_;
  core::WorkerPool workers_;

  // Development without an Anthropic key only: the fake API, on its own thread.
  std::unique_ptr<core::WorkerPool> simulator_workers_;
  std::unique_ptr<simulator::Simulator> simulator_;
  std::string upstream_base_url_;
  std::string upstream_api_key_;

  std::unique_ptr<cache::ResponseCache> cache_;
  std::unique_ptr<store::StaticKeyStore> key_store_;
  std::unique_ptr<limits::MemoryLimiter> limiter_;
  std::unique_ptr<upstream::Provider> client_;    // The Anthropic client itself.
  std::unique_ptr<upstream::Provider> provider_;  // client_ with retries; what handlers use.
  handlers::CompletionFlights flights_;
  limits::UpstreamGateOptions upstream_gate_options_;
  std::unique_ptr<limits::UpstreamGate> upstream_gate_;

  handlers::HandlerSettings handler_settings_;
  std::unique_ptr<handlers::HandlerContext> context_;
  std::atomic<bool> draining_{false};
  handlers::HealthHandler health_handler_;
  std::unique_ptr<handlers::ReadinessHandler> readiness_handler_;
  std::unique_ptr<handlers::CompletionsHandler> completions_handler_;
  std::unique_ptr<handlers::StreamHandler> stream_handler_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  boost::asio::cancellation_signal stop_sweeper_;
};

}  // namespace cms::app
