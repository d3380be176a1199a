// File: upstream/anthropic_client.hpp
//
// AnthropicClient: the Provider that calls the Anthropic Messages API (POST /v1/messages)
// over HTTP/1.1, with TLS (certificates verified against the system CA store, host name
// checked, SNI sent) for https base URLs and plain TCP for http ones (the simulator).
//
//   AnthropicClient client({.base_url = "https://api.anthropic.com", .api_key = key},
//                          workers, logger);
//   UpstreamResult<core::Completion> answer = co_await client.Complete(request, options);
//
// Connections: keep-alive connections are reused through one idle pool per worker of the
// WorkerPool (the pool of the io_context the calling coroutine runs on), so no lock is taken
// and no socket is ever touched by two threads. A connection returns to its pool only after
// its response was read completely and the upstream did not ask to close. A pooled
// connection the upstream already closed is detected before use where possible; a request
// that fails on a reused connection before any response byte arrived is retried once on a
// fresh connection. Calls from a thread outside the pool work, without pooling.
//
// Deadlines: DNS, TCP connect and TLS handshake together within connect_timeout and never
// past CallOptions::deadline; every write and read within the call's deadline; each read of
// a stream additionally within stream_idle_timeout. Any expired limit -> kTimeout.
//
// Failures: an upstream HTTP error -> ParseErrorResponse (kind by status, error type,
// Retry-After); a connection that cannot be opened, is reset or ends early, or an answer we
// cannot parse -> kUnavailable; cancellation -> kCancelled.
//
// Cancellation: every coroutine honours the cancellation slot of its caller (terminal
// cancellation, as `||` of awaitable_operators emits it). The operation in flight stops at
// once, its connection is closed (never pooled) and the result is kCancelled; the coroutines
// here never end with an operation_aborted exception.
//
// Thread safety: Complete() and OpenStream() may run on every worker at once. A stream
// belongs to the coroutine that opened it and must be used on that coroutine's worker.
// Lifetime: the client must outlive every stream it opened and every call in flight; destroy
// it after the workers stopped (its idle connections are closed then).
//
// Logging: the API key is never logged. The client writes only DEBUG lines about
// connections (`upstream_connect`, `upstream_connection_retry`); the contract's
// `anthropic_request`/`anthropic_response`/`anthropic_error` events are the caller's, who
// knows the latency and outcome of the whole exchange.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/completion.hpp"
#include "core/net.hpp"
#include "core/worker_pool.hpp"
#include "observability/logger.hpp"
#include "upstream/provider.hpp"

namespace cms::upstream {

struct AnthropicClientOptions {
  // Where calls go: http or https, a host, an optional port and an optional path prefix
  // ("https://api.anthropic.com", "http://127.0.0.1:9100", "https://proxy.example/anthropic").
  // No user info, query or fragment. Requests go to <prefix>/v1/messages.
  std::string base_url;
  // Sent as `x-api-key`. Never logged.
  std::string api_key;
  // Sent as `anthropic-version`.
  std::string anthropic_version = "2023-06-01";
  // DNS + TCP connect + TLS handshake of one new connection (also bounded by the deadline).
  std::chrono::milliseconds connect_timeout{10000};
  // Longest wait for the next bytes of a streamed answer.
  std::chrono::milliseconds stream_idle_timeout{60000};
  // Idle keep-alive connections kept per worker; the oldest is closed beyond it. 0: no reuse.
  // Below the calls a worker has in flight at its peak, every call past it closes its
  // connection and the next one opens a new one: the churn measured in bench/run at c=256.
  std::size_t max_idle_connections_per_worker = 256;
  // Largest response body accepted (a whole answer, or a whole stream); kUnavailable beyond.
  std::size_t max_response_bytes = 64 * 1024 * 1024;
};

class AnthropicClient final : public Provider {
 public:
  // Throws std::invalid_argument when options.base_url is not a valid base URL (see above),
  // and boost::system::system_error when the TLS context cannot be set up.
  AnthropicClient(AnthropicClientOptions options, core::WorkerPool& workers,
                  observability::Logger& logger);
  ~AnthropicClient() override;
  AnthropicClient(const AnthropicClient&) = delete;
  AnthropicClient& operator=(const AnthropicClient&) = delete;

  // Provider
  Task<UpstreamResult<core::Completion>> Complete(const core::CompletionRequest& request,
                                                  CallOptions options) override;
  Task<UpstreamResult<std::unique_ptr<CompletionStream>>> OpenStream(
      const core::CompletionRequest& request, CallOptions options) override;
  // The base URL, as configured.
  std::string Describe() const override;

  struct Impl;  // Public so the stream type in the .cpp can name it.

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cms::upstream
