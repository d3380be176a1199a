// File: http/server.hpp
//
// Server: accepts HTTP/1.1 connections and runs each on one worker of a WorkerPool. Per
// request it reads the head within its limits and deadline, settles the request id, answers
// CORS preflight, routes, hands the Exchange to the handler, adds the common headers and
// writes the `http_request` access log line. Keep-alive; pipelined requests are served in
// order.
//
// Shutdown (Drain): close idle keep-alive connections and answer further requests with
// `Connection: close`; after `accept_delay` stop accepting; let requests in progress finish
// and complete when none remain. When the grace period ends first, handlers still running
// are told (Exchange::ServerTerminating(), so a stream can send its error event), given a
// moment to say so, and then every connection left is closed.
//
// Thread safety: Start(), Drain() and Port() from the owning thread; the rest runs on the
// workers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/worker_pool.hpp"
#include "http/cors.hpp"
#include "http/router.hpp"
#include "observability/logger.hpp"

namespace cms::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;                        // 0: any free port (see Server::Port()).
  std::size_t max_request_bytes = 8 * 1024 * 1024;  // Body limit: 413 beyond it.
  std::size_t max_header_bytes = 16 * 1024;         // Head limit: 431 beyond it.
  std::chrono::seconds header_timeout{30};          // To receive a whole request head.
  std::chrono::seconds keep_alive_timeout{75};      // Idle time between requests.
  std::chrono::seconds body_timeout{60};            // To receive a whole body.
  std::chrono::seconds write_timeout{30};           // For any one write to the client.
  // Drain: how long the listener stays open after readiness turned 503, so load balancers
  // see the change before connections are refused.
  std::chrono::milliseconds accept_delay{0};
  CorsPolicy cors;
  bool log_requests = true;  // Write `http_request` lines (the simulator turns them off).
};

class Server {
 public:
  Server(core::WorkerPool& workers, const Router& router, ServerOptions options,
         observability::Logger& logger);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Throws std::system_error when the address cannot be bound.
  void Listen();
  // The bound port (after Listen()).
  [[nodiscard]] std::uint16_t Port() const;
  // Starts accepting on the workers. REQUIRES: Listen() was called; the pool is running.
  void Start();

  // Drains (see above) within `grace`, counted from the call.
  // Returns true when every connection ended within the grace period. Blocks the calling
  // thread (the main thread during shutdown), never a worker.
  bool Drain(std::chrono::milliseconds grace);

  // Number of open connections (for readiness and tests).
  [[nodiscard]] std::size_t OpenConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cms::http
