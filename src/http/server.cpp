#include "http/server.hpp"

#include <array>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/elapsed.hpp"
#include "http/connection_state.hpp"
#include "http/exchange.hpp"
#include "http/request_id.hpp"

namespace cms::http {

namespace {

using tcp = net::ip::tcp;
using observability::Logger;

// How long a closing connection keeps reading what the client still sends, so that the
// kernel does not answer unread bytes with a reset that destroys our last response (the
// lingering close nginx does).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerMaxBytes = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
// Past the grace period: how long handlers get to tell their callers they are cut off.
constexpr std::chrono::milliseconds kTerminateNoticeTime{1000};

// {"detail":"...","request_id":"..."}: the server's own protocol-level answers.
std::string DetailJson(std::string_view detail, std::string_view request_id) {
  std::string body = R"({"detail":)";
  body += boost::json::serialize(boost::json::string(detail));
  body += R"(,"request_id":)";
  body += boost::json::serialize(boost::json::string(request_id));
  body += '}';
  return body;
}

// Completion handler of the server's spawned coroutines: an exception that escaped one is a
// defect, logged as unhandled_exception; it never reaches the io_context.
struct LogEscapedException {
  Logger& logger;
  void operator()(const std::exception_ptr& error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      logger.Error("unhandled_exception", "", {{"error", e.what()}});
    }
  }
};

}  // namespace

struct Server::Impl {
  Impl(core::WorkerPool& workers_in, const Router& router_in, ServerOptions options_in,
       Logger& logger_in)
      : workers(workers_in), router(router_in), options(std::move(options_in)), logger(logger_in) {}

  // Constant after construction.
  core::WorkerPool& workers;
  const Router& router;
  const ServerOptions options;
  Logger& logger;

  std::atomic<bool> draining{false};
  std::unique_ptr<TcpAcceptor> acceptor;  // Lives on worker 0; closed there.

  // Open connections, for the drain. Guarded by `mutex`.
  mutable std::mutex mutex;
  std::condition_variable connections_changed;
  std::unordered_set<ConnectionState*> connections;

  Task<void> AcceptLoop();
  Task<void> RunSession(TcpSocket socket, std::size_t worker_index);
  Task<void> ServeRequests(ConnectionState& connection);
  Task<void> Dispatch(Exchange& exchange);
  Task<void> AnswerPreflight(Exchange& exchange);
  Task<void> AnswerMalformed(ConnectionState& connection, bhttp::status status,
                             std::string_view detail);
  Task<void> Close(ConnectionState& connection);
  void LogRequest(const Exchange& exchange) const;

  // Posts `action` to every open connection's worker, where it runs only if the connection
  // is still open by then.
  template <class Action>
  void ForEachConnection(Action action);

  class Registration;
};

// Registers a connection for the drain for as long as its session runs.
class Server::Impl::Registration {
 public:
  Registration(Server::Impl& impl, ConnectionState& connection)
      : impl_(impl), connection_(connection) {
    const std::lock_guard lock(impl_.mutex);
    impl_.connections.insert(&connection_);
  }
  ~Registration() {
    {
      const std::lock_guard lock(impl_.mutex);
      impl_.connections.erase(&connection_);
    }
    impl_.connections_changed.notify_all();
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  Server::Impl& impl_;
  ConnectionState& connection_;
};

template <class Action>
void Server::Impl::ForEachConnection(Action action) {
  const std::lock_guard lock(mutex);
  for (ConnectionState* connection : connections) {
    net::post(connection->stream.get_executor(), [this, connection, action] {
      // The session may have ended between the post and now: act only on a live one.
      {
        const std::lock_guard inner(mutex);
        if (!connections.contains(connection)) return;
      }
      action(*connection);
    });
  }
}

Task<void> Server::Impl::AcceptLoop() {
  for (;;) {
    const std::size_t worker = workers.NextIndex();
    auto [ec, socket] = co_await acceptor->async_accept(workers.Context(worker), kAsTuple);
    if (!acceptor->is_open() || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or memory: back off briefly instead of spinning, keep serving the
      // connections we have.
      logger.Error("accept_error", "", {{"error", ec.message()}});
      SteadyTimer pause{acceptor->get_executor(), kAcceptRetryDelay};
      co_await pause.async_wait(kAsTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // SSE events must leave at once.
    net::co_spawn(workers.Context(worker), RunSession(std::move(socket), worker),
                  LogEscapedException{logger});
  }
}

Task<void> Server::Impl::RunSession(TcpSocket socket, std::size_t worker_index) {
  ConnectionState connection{TcpStream(std::move(socket)), options, logger, draining, worker_index};
  const Registration registration{*this, connection};
  try {
    co_await ServeRequests(connection);
  } catch (const std::exception& e) {
    // Nothing may escape to the io_context: a defect here ends this connection only.
    logger.Error("unhandled_exception", "", {{"error", e.what()}});
    connection.broken = true;
  }
  co_await Close(connection);
}

Task<void> Server::Impl::ServeRequests(ConnectionState& connection) {
  bool first_request = true;
  // A connection accepted during the drain's accept delay still gets its first answer.
  while (!connection.broken && (first_request || !draining.load(std::memory_order_relaxed))) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    // No body limit while reading the head: a declared length over the limit is answered
    // below as a proper 413; the limit applies once the body is read (chunked bodies).
    parser.body_limit(boost::none);
    connection.stream.expires_after(first_request ? options.header_timeout
                                                  : options.keep_alive_timeout);
    connection.idle = true;
    auto [ec, n] =
        co_await bhttp::async_read_header(connection.stream, connection.buffer, parser, kAsTuple);
    connection.idle = false;
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        co_await AnswerMalformed(connection, bhttp::status::request_header_fields_too_large,
                                 "Request header fields too large");
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        co_await AnswerMalformed(connection, bhttp::status::bad_request, "Malformed request");
      }
      connection.broken = true;
      co_return;
    }
    first_request = false;
    const auto arrived_at = Clock::now();
    const auto incoming_id = parser.get().find("X-Request-Id");
    Exchange exchange{
        connection, parser,
        SettleRequestId(incoming_id == parser.get().end() ? std::string_view{}
                                                          : std::string_view(incoming_id->value())),
        arrived_at};
    parser.body_limit(options.max_request_bytes);
    const auto declared_length = parser.content_length();
    if (declared_length && *declared_length > options.max_request_bytes) {
      // Refused on the declared length alone, before routing or reading: nothing of the
      // body is buffered, and the lingering close lets the client read this answer.
      exchange.CloseAfterResponse();
      co_await exchange.Respond(bhttp::status::payload_too_large,
                                DetailJson("Request body too large", exchange.RequestId()));
    } else {
      co_await Dispatch(exchange);
    }
    if (options.log_requests) LogRequest(exchange);
    if (exchange.ClosesAfterResponse() || !exchange.Responded()) connection.broken = true;
  }
}

Task<void> Server::Impl::Dispatch(Exchange& exchange) {
  std::string failure;
  try {
    if (exchange.Method() == bhttp::verb::options) {
      co_await AnswerPreflight(exchange);
      co_return;
    }
    const Router::Match match = router.Find(exchange.Method(), exchange.Path());
    switch (match.outcome) {
      case Router::Outcome::kNotFound:
        co_await exchange.Respond(bhttp::status::not_found,
                                  DetailJson("Not Found", exchange.RequestId()));
        co_return;
      case Router::Outcome::kMethodNotAllowed: {
        // Built outside the co_await expression: g++ 12 miscompiles braced temporaries that
        // hold string literals inside a co_await.
        HeaderList allow;
        allow.emplace_back("Allow", match.allow);
        co_await exchange.Respond(bhttp::status::method_not_allowed,
                                  DetailJson("Method Not Allowed", exchange.RequestId()),
                                  std::move(allow));
        co_return;
      }
      case Router::Outcome::kFound:
        co_await match.handler->Handle(exchange);
        co_return;
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // A handler let an exception escape: a defect. Log it with the request id and answer 500
  // when nothing was sent yet; otherwise the connection cannot be trusted any more.
  logger.Error("unhandled_exception", exchange.RequestId(),
               {{"error", failure}, {"path", exchange.Path()}});
  if (!exchange.Responded()) {
    exchange.CloseAfterResponse();
    co_await exchange.Respond(
        bhttp::status::internal_server_error,
        DetailJson("An internal error occurred. Check logs for request_id.", exchange.RequestId()));
  } else if (exchange.IsEventStream()) {
    exchange.AbortEventStream();
  }
}

Task<void> Server::Impl::AnswerPreflight(Exchange& exchange) {
  if (!router.HasPath(exchange.Path())) {
    co_await exchange.Respond(bhttp::status::not_found,
                              DetailJson("Not Found", exchange.RequestId()));
    co_return;
  }
  HeaderList headers;
  if (!options.cors.AddPreflightHeaders(exchange.Header("Origin"), headers)) {
    co_await exchange.Respond(bhttp::status::bad_request,
                              DetailJson("Disallowed CORS origin", exchange.RequestId()));
    co_return;
  }
  co_await exchange.Respond(bhttp::status::no_content, "", std::move(headers));
}

Task<void> Server::Impl::AnswerMalformed(ConnectionState& connection, bhttp::status status,
                                         std::string_view detail) {
  const std::string request_id = NewRequestId();
  bhttp::response<bhttp::string_body> response{status, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.set("X-Request-Id", request_id);
  response.body() = DetailJson(detail, request_id);
  response.keep_alive(false);
  response.prepare_payload();
  connection.stream.expires_after(options.write_timeout);
  co_await bhttp::async_write(connection.stream, response, kAsTuple);
}

Task<void> Server::Impl::Close(ConnectionState& connection) {
  auto& socket = connection.stream.socket();
  boost::system::error_code ignored;
  socket.shutdown(TcpSocket::shutdown_send, ignored);
  if (connection.broken && socket.is_open()) {
    // The client may still be sending (a body we refused): read and discard for a bounded
    // time so our answer is not destroyed by a reset.
    connection.stream.expires_after(kLingerTime);
    std::array<char, 16 * 1024> sink{};
    std::size_t discarded = 0;
    while (discarded < kLingerMaxBytes) {
      auto [ec, n] = co_await connection.stream.async_read_some(net::buffer(sink), kAsTuple);
      if (ec) break;
      discarded += n;
    }
  }
  connection.stream.close();
}

void Server::Impl::LogRequest(const Exchange& exchange) const {
  logger.Info("http_request", exchange.RequestId(),
              {{"method", bhttp::to_string(exchange.Method())},
               {"path", exchange.Path()},
               // 499: the client left before an answer could be sent (nginx's convention).
               {"status", exchange.Responded() ? exchange.ResponseStatus() : 499U},
               {"latency_ms", core::MillisecondsSince(exchange.ArrivedAt())}});
}

Server::Server(core::WorkerPool& workers, const Router& router, ServerOptions options,
               observability::Logger& logger)
    : impl_(std::make_unique<Impl>(workers, router, std::move(options), logger)) {}

Server::~Server() = default;

void Server::Listen() {
  auto& context = impl_->workers.Context(0);
  TcpResolver resolver{context};
  // Startup only: a blocking resolve of the configured host before any worker runs.
  const auto endpoints = resolver.resolve(impl_->options.host, std::to_string(impl_->options.port),
                                          TcpResolver::passive);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto acceptor = std::make_unique<TcpAcceptor>(context);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(net::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(net::socket_base::max_listen_connections);
  impl_->acceptor = std::move(acceptor);
}

std::uint16_t Server::Port() const { return impl_->acceptor->local_endpoint().port(); }

void Server::Start() {
  net::co_spawn(impl_->workers.Context(0), impl_->AcceptLoop(), LogEscapedException{impl_->logger});
}

bool Server::Drain(std::chrono::milliseconds grace) {
  const auto deadline = Clock::now() + grace;
  impl_->draining.store(true);
  const auto close_idle = [](ConnectionState& connection) {
    if (connection.idle) connection.stream.cancel();
  };
  impl_->ForEachConnection(close_idle);
  if (impl_->options.accept_delay.count() > 0) {
    std::this_thread::sleep_until(std::min(deadline, Clock::now() + impl_->options.accept_delay));
  }
  std::promise<void> closed;
  net::post(impl_->acceptor->get_executor(), [this, &closed] {
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  // Idle keep-alive connections end now; busy ones end after their response.
  impl_->ForEachConnection(close_idle);
  const auto all_closed = [this] { return impl_->connections.empty(); };
  std::unique_lock lock(impl_->mutex);
  const bool drained = impl_->connections_changed.wait_until(lock, deadline, all_closed);
  lock.unlock();
  if (!drained) {
    impl_->ForEachConnection([](ConnectionState& connection) {
      connection.terminating = true;
      // Wakes the caller watches (CallerMonitor) and aborts a write in progress; the handler
      // then tells its caller, on a fresh write, that the service is shutting down.
      boost::system::error_code ignored;
      connection.stream.socket().cancel(ignored);
    });
    lock.lock();
    impl_->connections_changed.wait_for(lock, kTerminateNoticeTime, all_closed);
    lock.unlock();
    impl_->ForEachConnection([](ConnectionState& connection) {
      boost::system::error_code ignored;
      connection.stream.socket().close(ignored);
    });
    lock.lock();
    impl_->connections_changed.wait_for(lock, kLingerTime + std::chrono::seconds(1),
                                        [this] { return impl_->connections.empty(); });
  }
  return drained;
}

std::size_t Server::OpenConnections() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

}  // namespace cms::http
