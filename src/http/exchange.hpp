// File: http/exchange.hpp
//
// Exchange: one request and its response, as a handler sees them. The server (http/server.hpp)
// has already read the request head within its limits, settled the request id and CORS,
// and routed it; the handler decides whether to read the body, then answers exactly once:
// either Respond(), or BeginEventStream() followed by WriteEvents() and EndEventStream() /
// AbortEventStream().
//
// Thread safety: an Exchange belongs to its connection's coroutine and is used from that
// connection's thread only. It lives until the handler's Handle() coroutine returns.
//
// Every socket operation here carries a deadline; a write that cannot complete in time
// counts as the client being gone.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/result.hpp>

#include "core/net.hpp"
#include "http/caller_monitor.hpp"
#include "http/response_head.hpp"

namespace cms::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

inline constexpr std::string_view kJsonContentType = "application/json";

enum class BodyError {
  kTooLarge,  // Over the server's max_request_bytes: answer 413 (the server closes afterwards).
  kBroken,    // The client left, timed out or broke the framing: nothing can be answered.
};

[[noreturn]] void throw_exception_from_error(BodyError error,
                                             const boost::source_location& location);

// Connection-scoped state an Exchange borrows from its session (http/server.cpp owns it).
struct ConnectionState;

class Exchange {
 public:
  Exchange(ConnectionState& connection, bhttp::request_parser<bhttp::string_body>& parser,
           std::string request_id, Clock::time_point arrived_at);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // --- The request -------------------------------------------------------------------
  [[nodiscard]] const bhttp::request_header<>& Head() const;
  [[nodiscard]] bhttp::verb Method() const { return Head().method(); }
  // The target's path, without the query string.
  [[nodiscard]] std::string_view Path() const;
  // A header's value, or "" when absent (names are case-insensitive).
  [[nodiscard]] std::string_view Header(std::string_view name) const;
  // The caller's X-Request-Id if valid, else a fresh UUIDv4 (CONTRACT.md section 8).
  [[nodiscard]] std::string_view RequestId() const { return request_id_; }
  [[nodiscard]] Clock::time_point ArrivedAt() const { return arrived_at_; }
  // Which I/O thread serves this connection (0 to WORKERS-1), for per-thread pools.
  [[nodiscard]] std::size_t WorkerIndex() const;

  // Reads the whole body, at most max_request_bytes, within the body deadline. Call at
  // most once. kTooLarge as soon as the declared or received length passes the limit,
  // without buffering the rest.
  Task<boost::system::result<std::string, BodyError>> ReadBody();

  // --- The response ------------------------------------------------------------------
  // Sends a complete response. `content_type` defaults to JSON. X-Request-Id, CORS and
  // Connection headers are added by the server. Returns false when the client is gone.
  Task<bool> Respond(bhttp::status status, std::string body, HeaderList extra = {},
                     std::string_view content_type = kJsonContentType);

  // When BeginEventStream() sends the head.
  enum class HeadTiming {
    kNow,
    // With the first WriteEvents() or EndEventStream(), in the same write: one wakeup of the
    // caller instead of two when the first events are ready at once (a cached replay, or an
    // upstream whose head read brought them). A handler that may wait before its first
    // events calls FlushEventStreamHead() first, so the caller is not kept without a head.
    kWithFirstEvents,
  };

  // Sends `200` and the event-stream head (text/event-stream, no-cache, X-Accel-Buffering:
  // no) with chunked framing, now or with the first events (`timing`). Then WriteEvents()
  // any number of times and end with EndEventStream() (the connection stays usable) or
  // AbortEventStream() (closes it, so the caller sees a cut stream). Each returns false when
  // the client is gone.
  Task<bool> BeginEventStream(HeaderList extra = {}, HeadTiming timing = HeadTiming::kNow);
  // Sends a head that BeginEventStream() held back, alone; true at once when none is held.
  Task<bool> FlushEventStreamHead();
  [[nodiscard]] bool EventStreamHeadPending() const { return !pending_head_.empty(); }
  // Writes `events` (one or more complete SSE events, each ending in a blank line) and
  // flushes them to the socket before returning.
  Task<bool> WriteEvents(std::string_view events);
  // Writes `final_events` (as WriteEvents() would; may be empty) and the end of the stream in
  // one write, so the caller is woken once for both. HTTP/1.0 has no end marker: the
  // connection closes after the response instead.
  Task<bool> EndEventStream(std::string_view final_events = {});
  // Closes the connection without the end of the stream. A head still held back is sent
  // first, as far as the socket takes it without waiting.
  void AbortEventStream();

  // Watches the caller while the handler waits on one operation at a time, cancelling it
  // (terminal) through the watch's slot when the caller goes: the peer closed or reset the
  // connection, or the drain's grace period ended (see http/caller_monitor.hpp). Handlers
  // bind the slot to their upstream wait so a departed caller cancels that work.
  // CallerGone() is true at once when the drain's grace period is over (ServerTerminating()).
  [[nodiscard]] CallerMonitor::Watch WatchCaller();

  // True once the server's shutdown grace period is over: the handler must end now, telling
  // its caller why if it still can.
  [[nodiscard]] bool ServerTerminating() const;

  [[nodiscard]] bool Responded() const { return responded_; }
  [[nodiscard]] unsigned ResponseStatus() const { return status_; }
  // Asks the server to close the connection after this response (no keep-alive).
  void CloseAfterResponse() { close_after_ = true; }
  [[nodiscard]] bool ClosesAfterResponse() const { return close_after_; }
  [[nodiscard]] bool IsEventStream() const { return event_stream_; }

 private:
  // Status line, X-Request-Id, CORS, Connection; what every response of ours carries.
  [[nodiscard]] ResponseHead StartHead(unsigned status, bool keep_alive) const;
  [[nodiscard]] bool KeepsAlive() const;
  Task<bool> WriteHeadAndBody(std::string head, std::string_view body);
  // One write of the event stream: the held-back head (if any), `events` as one chunk (if
  // any), and the last chunk when `last` (chunked framing only).
  Task<bool> WriteEventStreamPart(std::string_view events, bool last);
  // Writes every buffer within the write deadline; false (and the connection broken) when
  // the client is gone. REQUIRES: the buffers outlive the awaited call.
  Task<bool> WriteAll(std::span<const net::const_buffer> buffers);

  ConnectionState& connection_;
  bhttp::request_parser<bhttp::string_body>& parser_;
  std::string request_id_;
  Clock::time_point arrived_at_;
  std::string pending_head_;  // The event-stream head, while BeginEventStream() holds it back.
  bool responded_ = false;
  bool event_stream_ = false;
  bool close_after_ = false;
  bool body_read_ = false;
  bool chunked_ = true;
  unsigned status_ = 0;
};

// Handler: answers the requests of one route. Implementations are shared by every
// connection and thread: Handle() must not mutate shared state without synchronisation.
class Handler {
 public:
  virtual ~Handler() = default;
  // Answers one request. Must answer exactly once unless the client is gone. Must not let
  // an exception escape for an expected outcome; one that does is logged as
  // unhandled_exception and answered 500 by the server.
  virtual Task<void> Handle(Exchange& exchange) = 0;
};

}  // namespace cms::http
