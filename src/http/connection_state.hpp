// File: http/connection_state.hpp
//
// ConnectionState: what one accepted connection owns (its stream and read buffer) and what it
// borrows from the server (options, logger, the drain flag). Owned by the connection's
// session coroutine (http/server.cpp) and lent to each Exchange on it. Used only from the
// connection's worker thread, except `draining`, which the server sets from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/caller_monitor.hpp"
#include "http/server.hpp"
#include "observability/logger.hpp"

namespace cms::http {

struct ConnectionState {
  ConnectionState(TcpStream stream_in, const ServerOptions& options_in,
                  observability::Logger& logger_in, const std::atomic<bool>& draining_in,
                  std::size_t worker_index_in)
      : stream(std::move(stream_in)),
        options(options_in),
        logger(logger_in),
        draining(draining_in),
        worker_index(worker_index_in) {}

  TcpStream stream;
  boost::beast::flat_buffer buffer;
  const ServerOptions& options;
  observability::Logger& logger;
  const std::atomic<bool>& draining;
  const std::size_t worker_index;

  // Guarded by the worker thread: true while waiting for the next request's head, so a
  // drain may close the connection without cutting a request.
  bool idle = false;
  // True once the connection can no longer carry another request.
  bool broken = false;
  // Set (and the socket's pending operations cancelled) when the drain's grace period is
  // over: handlers still running end now, telling their caller why (an error event, a 503).
  bool terminating = false;
  // Watches the caller while a handler waits upstream; its wait may outlive the handler (see
  // caller_monitor.hpp). Declared last: destroyed before the stream it watches.
  CallerMonitor caller_monitor{stream.socket(), terminating};
};

}  // namespace cms::http
