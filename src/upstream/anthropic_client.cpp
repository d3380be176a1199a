#include "upstream/anthropic_client.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <openssl/ssl.h>

#include "core/parse_buffered.hpp"
#include "core/send_now.hpp"
#include "core/socket_peek.hpp"
#include "upstream/anthropic_wire.hpp"
#include "upstream/cancelled_as_result.hpp"
#include "upstream/sse_body.hpp"
#include "upstream/sse_parser.hpp"

namespace cms::upstream {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using net::experimental::awaitable_operators::operator||;

constexpr std::string_view kUserAgent = "claude-microservice/" CMS_VERSION;
constexpr std::size_t kMaxHeaderBytes = std::size_t{64} * 1024;
// After message_stop only the chunked terminator is expected; more than this is not worth
// reading just to keep the connection.
constexpr std::size_t kMaxTrailingBytes = std::size_t{64} * 1024;
// The terminator normally arrives with message_stop; the caller's answer is complete, so
// waiting long for it to save a connection is not worth it.
constexpr std::chrono::milliseconds kDrainTimeout{2000};

// A request ready for the wire: its head (request line and headers, blank line included) and
// its body, written together in one gather write. Written directly rather than through
// Beast's generic serializer, whose buffer iteration was ~6% of a proxied request's
// instructions (callgrind); the connection may write it twice (stale keep-alive retry).
struct Request {
  std::string head;
  std::string body;
  bool stream = false;
  std::array<net::const_buffer, 2> buffers;  // head and body, while a write is in progress
};
using HeadParser = http::response_parser<http::empty_body>;
using StreamParser = http::response_parser<SseBody>;
using StringParser = http::response_parser<http::string_body>;
using IoResult = std::tuple<error_code, std::size_t>;

// The parts of the base URL every call needs. Constant after construction.
struct Endpoint {
  bool tls = false;
  std::string host;         // For DNS, SNI and certificate verification (IPv6 without []).
  bool host_is_ip = false;  // No DNS and no SNI for an address literal.
  std::string port;
  std::string host_header;  // Host as written in the URL, with the port when one was given.
  std::string target;       // <path prefix>/v1/messages
  std::string description;  // The base URL as configured.
};

Endpoint ParseBaseUrl(std::string_view base_url) {
  const auto parsed = boost::urls::parse_absolute_uri(base_url);
  if (!parsed) throw std::invalid_argument("base URL is not an absolute URL");
  const boost::urls::url_view& url = *parsed;
  Endpoint endpoint;
  const auto scheme = url.scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    throw std::invalid_argument("base URL scheme must be http or https");
  }
  endpoint.tls = scheme == boost::urls::scheme::https;
  if (!url.has_authority() || url.host_type() == boost::urls::host_type::none ||
      url.encoded_host().empty()) {
    throw std::invalid_argument("base URL has no host");
  }
  if (url.has_userinfo()) throw std::invalid_argument("base URL must not contain credentials");
  if (url.has_query() || url.has_fragment()) {
    throw std::invalid_argument("base URL must not have a query or fragment");
  }
  if (url.has_port()) {
    if (url.port_number() == 0) throw std::invalid_argument("base URL port is invalid");
    endpoint.port = std::string(url.port());
  } else {
    endpoint.port = endpoint.tls ? "443" : "80";
  }
  endpoint.host = url.host_address();
  endpoint.host_is_ip = url.host_type() == boost::urls::host_type::ipv4 ||
                        url.host_type() == boost::urls::host_type::ipv6;
  if (url.host_type() == boost::urls::host_type::ipvfuture) {
    throw std::invalid_argument("base URL host is not supported");
  }
  endpoint.host_header = std::string(url.encoded_host_and_port());
  std::string_view prefix = url.encoded_path();
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  endpoint.target = std::string(prefix) + "/v1/messages";
  endpoint.description = std::string(base_url);
  return endpoint;
}

UpstreamError MakeError(UpstreamErrorKind kind, std::string log_message) {
  return MakeUpstreamError(kind, std::move(log_message));
}

UpstreamError Cancelled() {
  return MakeError(UpstreamErrorKind::kCancelled, "upstream call cancelled");
}

// The error for a failed socket operation. Beast reports an expired stream deadline as
// error::timeout, so operation_aborted can only mean the caller cancelled.
UpstreamError IoError(const error_code& ec, std::string_view during) {
  if (ec == beast::error::timeout) {
    return MakeError(UpstreamErrorKind::kTimeout, "timeout during " + std::string(during));
  }
  if (ec == net::error::operation_aborted) return Cancelled();
  if (ec == http::error::body_limit) {
    return MakeError(UpstreamErrorKind::kUnavailable, "response body over the size limit");
  }
  return MakeError(UpstreamErrorKind::kUnavailable,
                   std::string(during) + " failed: " + ec.message());
}

// Errors that, on a reused connection with no response byte received, mean the upstream had
// already closed it (the keep-alive race): safe to retry on a new connection.
bool IsStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

Clock::time_point Sooner(Clock::time_point deadline, std::chrono::milliseconds limit) {
  return std::min(deadline, Clock::now() + limit);
}

std::optional<std::string_view> HeaderValue(const http::response_header<>& header,
                                            std::string_view name) {
  const auto it = header.find(name);
  if (it == header.end()) return std::nullopt;
  return it->value();
}

std::optional<std::string> RetryAfter(const http::response_header<>& header) {
  return RetryAfterFromHeaders(HeaderValue(header, "retry-after"),
                               HeaderValue(header, "retry-after-ms"));
}

// One HTTP/1.1 connection to the upstream, plain or TLS, with the bytes read past the last
// response. Used by one coroutine at a time, on the worker that created it.
class Connection {
 public:
  explicit Connection(TcpStream stream) : plain_(std::move(stream)) {}
  explicit Connection(std::unique_ptr<beast::ssl_stream<TcpStream>> stream)
      : tls_(std::move(stream)) {}

  TcpStream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  // REQUIRES: `request` outlives the awaited call.
  Task<IoResult> Write(Request& request) {
    request.buffers = {net::buffer(request.head), net::buffer(request.body)};
    if (tls_) return net::async_write(*tls_, request.buffers, kAsTuple);
    return core::SendAll(*plain_, request.buffers);
  }
  Task<IoResult> ReadHeader(HeadParser& parser) {
    if (tls_) return http::async_read_header(*tls_, buffer_, parser, kAsTuple);
    return http::async_read_header(*plain_, buffer_, parser, kAsTuple);
  }
  Task<IoResult> Read(StringParser& parser) {
    if (tls_) return http::async_read(*tls_, buffer_, parser, kAsTuple);
    return http::async_read(*plain_, buffer_, parser, kAsTuple);
  }
  Task<IoResult> ReadSome(StreamParser& parser) {
    if (tls_) return http::async_read_some(*tls_, buffer_, parser, kAsTuple);
    return http::async_read_some(*plain_, buffer_, parser, kAsTuple);
  }

  [[nodiscard]] bool HasBufferedBytes() const { return buffer_.size() != 0; }

  // What the head's read already brought of the body: normally all of a whole answer, or a
  // stream's first events (core/parse_buffered.hpp).
  error_code ParseBuffered(http::basic_parser<false>& parser) {
    return core::ParseBuffered(parser, buffer_);
  }

  // Beast reads as much as the buffer's free capacity, at least 512 bytes. A whole answer
  // (head and JSON body, 1-4 KiB from the real API) would then take two or three reads,
  // each a system call and a trip through the event loop, and so would a stream's head
  // (over 1 KiB of rate-limit and tracing headers from the real API; the first events
  // usually arrive with it). A stream gives the room back once it turns out to trickle
  // (ShrinkReadBufferForTrickle), because its buffer is held for the stream's whole life.
  void SizeReadBufferFor(bool stream) {
    if (HasBufferedBytes()) return;
    if (!stream) {
      buffer_.reserve(kWholeAnswerReadBytes);
      return;
    }
    if (buffer_.capacity() > kStreamHeadReadBytes) buffer_.shrink_to_fit();
    buffer_.reserve(kStreamHeadReadBytes);
  }

  // How many bytes the next read may take (Beast's rule, above).
  [[nodiscard]] std::size_t ReadOffer() const {
    return std::max(kMinReadBytes, buffer_.capacity() - buffer_.size());
  }

  // Sizes the next stream read from what the last one took (`consumed` of `offered`):
  // - all of it: more is likely waiting (the upstream sends in bursts), so the next read is
  //   offered four times as much, up to kBurstReadBytes;
  // - less than kMinReadBytes: the stream trickles (events one at a time, as a model writes
  //   them), so it keeps only kMinReadBytes, with the bytes not parsed yet, for the rest of
  //   its life. One allocation, once per stream that trickles.
  void FitReadBufferAfterStreamRead(std::size_t offered, std::size_t consumed) {
    if (consumed >= offered) {
      GrowReadBufferForBurst();
    } else if (consumed < kMinReadBytes) {
      ShrinkReadBufferForTrickle();
    }
  }

  // False when the idle connection cannot carry another request: the peer closed it, or
  // sent bytes nobody asked for (a TLS close_notify, garbage). A non-blocking peek, so
  // it never waits.
  bool LooksReusable() {
    if (HasBufferedBytes()) return false;
    return core::PeekSocket(Tcp().socket()) == core::SocketPeek::kEmpty;
  }

 private:
  void GrowReadBufferForBurst() {
    if (buffer_.capacity() >= kBurstReadBytes) return;
    buffer_.reserve(std::min(kBurstReadBytes, std::max(buffer_.capacity(), kMinReadBytes) * 4));
  }

  void ShrinkReadBufferForTrickle() {
    if (buffer_.capacity() <= kMinReadBytes || buffer_.size() > kMinReadBytes / 2) return;
    beast::flat_buffer smaller;
    smaller.reserve(kMinReadBytes);
    smaller.commit(net::buffer_copy(smaller.prepare(buffer_.size()), buffer_.data()));
    buffer_ = std::move(smaller);
  }

  static constexpr std::size_t kMinReadBytes = 512;
  static constexpr std::size_t kStreamHeadReadBytes = 4096;
  static constexpr std::size_t kWholeAnswerReadBytes = 8192;
  static constexpr std::size_t kBurstReadBytes = 16384;

  std::optional<TcpStream> plain_;
  std::unique_ptr<beast::ssl_stream<TcpStream>> tls_;
  beast::flat_buffer buffer_;
};

}  // namespace

struct AnthropicClient::Impl {
  Impl(AnthropicClientOptions options_in, core::WorkerPool& workers_in,
       observability::Logger& logger_in)
      : options(std::move(options_in)),
        endpoint(ParseBaseUrl(options.base_url)),
        workers(workers_in),
        logger(logger_in),
        pools(workers_in.Size()) {
    if (endpoint.tls) {
      ssl_context.emplace(ssl::context::tls_client);
      ssl_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1);
      ssl_context->set_default_verify_paths();
      ssl_context->set_verify_mode(ssl::verify_peer);
    }
  }

  // A response whose head has been read, with the connection it arrived on.
  struct Head {
    std::unique_ptr<Connection> connection;
    std::unique_ptr<HeadParser> parser;
  };

  // Idle connections of one worker, touched only by that worker's thread. Aligned so that
  // two workers' pools never share a cache line.
  struct alignas(64) IdlePool {
    std::deque<std::unique_ptr<Connection>> connections;  // Most recently used at the back.
  };

  [[nodiscard]] Request MakeRequest(std::string body, bool stream) const;
  [[nodiscard]] std::string FixedRequestHead() const;
  [[nodiscard]] Task<std::size_t> CurrentWorker() const;
  std::unique_ptr<Connection> TakeIdle(std::size_t worker);
  void Release(std::size_t worker, std::unique_ptr<Connection> connection);
  Task<UpstreamResult<std::vector<tcp::endpoint>>> Resolve(Clock::time_point deadline);
  Task<UpstreamResult<std::unique_ptr<Connection>>> Connect(Clock::time_point deadline,
                                                            std::string_view request_id);
  Task<UpstreamResult<Head>> Exchange(Request& request, std::size_t worker,
                                      const CallOptions& options);
  Task<UpstreamResult<core::Completion>> Complete(const core::CompletionRequest& request,
                                                  CallOptions options);
  Task<UpstreamResult<std::unique_ptr<CompletionStream>>> OpenStream(
      const core::CompletionRequest& request, CallOptions options);
  Task<UpstreamError> ReadErrorBody(std::unique_ptr<Connection> connection,
                                    std::unique_ptr<HeadParser> head, std::size_t worker,
                                    Clock::time_point deadline);

  // Constant after construction.
  const AnthropicClientOptions options;
  const Endpoint endpoint;
  const std::string fixed_request_head = FixedRequestHead();  // Same for every request.
  core::WorkerPool& workers;
  observability::Logger& logger;
  std::optional<ssl::context> ssl_context;  // Set up once; OpenSSL shares it across threads.

  // pools[i] is used only by worker i's thread.
  std::vector<IdlePool> pools;
};

namespace {

// A streamed answer: reads the body only as the caller pulls; Beast hands the body bytes
// to the SSE parser that is the parser's body (SseBody), and events go to the accumulator.
class AnthropicStream final : public CompletionStream {
 public:
  AnthropicStream(AnthropicClient::Impl& client, std::size_t worker,
                  std::unique_ptr<Connection> connection, std::unique_ptr<StreamParser> parser,
                  Clock::time_point deadline)
      : client_(client),
        worker_(worker),
        deadline_(deadline),
        connection_(std::move(connection)),
        parser_(std::move(parser)) {}

  Task<UpstreamResult<StreamEvent>> Next() override {
    return CancelledAsResult(NextImpl(), "upstream call cancelled");
  }
  // The end counts as ready once the final event was applied: what is left is the body's
  // last bytes, normally received with it.
  [[nodiscard]] bool HasReadyEvent() const override {
    return state_ == State::kOpen && (accumulator_.Done() || parser_->get().body().HasEvent());
  }
  std::optional<UpstreamResult<StreamEvent>> TryNextReady() override {
    if (state_ != State::kOpen) return std::nullopt;
    return ApplyReceived();
  }

  // Parses what the head's read already brought of the body (usually the first events), so
  // HasReadyEvent() and TryNextReady() see them without a read. A malformed start is kept
  // for Next() to report once the events before it are taken, as a later read's would be.
  void ParseReceived() {
    if (const error_code ec = connection_->ParseBuffered(*parser_)) {
      received_error_ = IoError(ec, "stream read");
    }
  }

 private:
  enum class State { kOpen, kFinished, kFailed };

  Task<UpstreamResult<StreamEvent>> NextImpl();
  // Applies the events already received until one yields a text delta or breaks the
  // stream; std::nullopt when they run out or the final event was applied.
  std::optional<UpstreamResult<StreamEvent>> ApplyReceived();
  Task<UpstreamResult<void>> ReadMore();
  Task<void> FinishBody();
  SseParser& Sse() { return parser_->get().body(); }
  UpstreamError Fail(UpstreamError error) {
    state_ = State::kFailed;
    connection_.reset();  // Mid-answer: the connection cannot carry another request.
    return error;
  }

  // Constant after construction.
  AnthropicClient::Impl& client_;
  const std::size_t worker_;
  const Clock::time_point deadline_;

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<StreamParser> parser_;  // Its body is the SSE parser.
  StreamAccumulator accumulator_;
  State state_ = State::kOpen;
  std::optional<UpstreamError> received_error_;  // From ParseReceived(), until reported.
};

Task<UpstreamResult<StreamEvent>> AnthropicStream::NextImpl() {
  if (state_ != State::kOpen) {
    co_return MakeError(UpstreamErrorKind::kInternal, "Next() after the stream ended");
  }
  for (;;) {
    if (auto event = ApplyReceived()) co_return std::move(*event);
    if (accumulator_.Done()) {
      co_await FinishBody();
      state_ = State::kFinished;
      co_return StreamEvent{StreamEvent::Kind::kEnd,
                            {},
                            std::make_unique<core::Completion>(accumulator_.TakeCompletion())};
    }
    if (Sse().Overflowed()) {
      co_return Fail(
          MakeError(UpstreamErrorKind::kUnavailable, "stream event over the size bound"));
    }
    if (received_error_) co_return Fail(*std::exchange(received_error_, std::nullopt));
    if (parser_->is_done()) {
      co_return Fail(
          MakeError(UpstreamErrorKind::kUnavailable, "stream ended before message_stop"));
    }
    UpstreamResult<void> read = co_await ReadMore();
    if (!read) co_return Fail(read.error());
  }
}

std::optional<UpstreamResult<StreamEvent>> AnthropicStream::ApplyReceived() {
  SseEventView event;
  while (!accumulator_.Done() && Sse().Next(event)) {
    UpstreamResult<std::string> text = accumulator_.Apply(event);
    if (!text) return UpstreamResult<StreamEvent>(Fail(text.error()));
    if (!accumulator_.Done() && !text->empty()) {
      return UpstreamResult<StreamEvent>(
          StreamEvent{StreamEvent::Kind::kTextDelta, std::move(*text), nullptr});
    }
  }
  return std::nullopt;
}

Task<UpstreamResult<void>> AnthropicStream::ReadMore() {
  connection_->Tcp().expires_at(Sooner(deadline_, client_.options.stream_idle_timeout));
  // The bytes read are fed to the SSE parser by SseBody as Beast de-chunks them.
  const std::size_t offered = connection_->ReadOffer();
  auto [ec, consumed] = co_await connection_->ReadSome(*parser_);
  if (ec) co_return IoError(ec, "stream read");
  connection_->FitReadBufferAfterStreamRead(offered, consumed);
  co_return boost::system::result<void, UpstreamError>();
}

Task<void> AnthropicStream::FinishBody() {
  std::size_t discarded = 0;
  const Clock::time_point drain_deadline = Sooner(deadline_, kDrainTimeout);
  while (!parser_->is_done() && discarded <= kMaxTrailingBytes) {
    connection_->Tcp().expires_at(drain_deadline);
    auto [ec, consumed] = co_await connection_->ReadSome(*parser_);
    if (ec) break;
    discarded += consumed;
  }
  if (parser_->is_done() && parser_->get().keep_alive()) {
    client_.Release(worker_, std::move(connection_));
  }
  connection_.reset();
}

}  // namespace

std::string AnthropicClient::Impl::FixedRequestHead() const {
  // Configuration rejects keys and versions with blanks or control characters, and the
  // endpoint comes from a parsed URL: nothing here can break the header framing.
  std::string head = "POST " + endpoint.target + " HTTP/1.1\r\n";
  head += "Host: " + endpoint.host_header + "\r\n";
  head += "x-api-key: " + options.api_key + "\r\n";
  head += "anthropic-version: " + options.anthropic_version + "\r\n";
  head += "Content-Type: application/json\r\n";
  head += "User-Agent: ";
  head += kUserAgent;
  head += "\r\n";
  return head;
}

Request AnthropicClient::Impl::MakeRequest(std::string body, bool stream) const {
  Request request;
  request.head.reserve(fixed_request_head.size() + 64);
  request.head = fixed_request_head;
  request.head += stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n";
  request.head += "Content-Length: ";
  request.head += std::to_string(body.size());
  request.head += "\r\n\r\n";
  request.body = std::move(body);
  request.stream = stream;
  return request;
}

Task<std::size_t> AnthropicClient::Impl::CurrentWorker() const {
  const auto executor = co_await net::this_coro::executor;
  co_return workers.IndexOf(net::query(executor, net::execution::context));
}

std::unique_ptr<Connection> AnthropicClient::Impl::TakeIdle(std::size_t worker) {
  if (worker >= pools.size()) return nullptr;
  auto& idle = pools[worker].connections;
  while (!idle.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle.back());
    idle.pop_back();
    if (connection->LooksReusable()) return connection;
  }
  return nullptr;
}

void AnthropicClient::Impl::Release(std::size_t worker, std::unique_ptr<Connection> connection) {
  if (worker >= pools.size() || options.max_idle_connections_per_worker == 0) return;
  if (connection->HasBufferedBytes()) return;  // Bytes nobody asked for: not reusable.
  // Idle, nothing pending: the next call sets its own deadline before any operation.
  connection->Tcp().expires_never();
  auto& idle = pools[worker].connections;
  if (idle.size() >= options.max_idle_connections_per_worker) idle.pop_front();
  idle.push_back(std::move(connection));
}

Task<UpstreamResult<std::vector<tcp::endpoint>>> AnthropicClient::Impl::Resolve(
    Clock::time_point deadline) {
  if (endpoint.host_is_ip) {
    const net::ip::address address = net::ip::make_address(endpoint.host);
    const auto port = static_cast<unsigned short>(std::stoul(endpoint.port));
    co_return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};
  }
  // getaddrinfo runs on Asio's resolver thread and cannot be interrupted, so the lookup is
  // detached: its result comes through a channel that the timer (and the caller's
  // cancellation) can stop waiting for, while the lookup itself finishes in the background
  // holding the shared state alive.
  using Results = TcpResolver::results_type;
  struct Lookup {
    explicit Lookup(const Executor& executor) : resolver(executor), done(executor, 1) {}
    TcpResolver resolver;
    net::experimental::basic_channel<Executor, net::experimental::channel_traits<>,
                                     void(error_code, Results)>
        done;
  };
  const auto executor = co_await net::this_coro::executor;
  auto lookup = std::make_shared<Lookup>(executor);
  lookup->resolver.async_resolve(endpoint.host, endpoint.port,
                                 [lookup](const error_code& ec, Results results) {
                                   lookup->done.try_send(ec, std::move(results));
                                 });
  SteadyTimer timer(executor, deadline);
  auto outcome = co_await (lookup->done.async_receive(kAsTuple) || timer.async_wait(kAsTuple));
  if (outcome.index() == 1) {
    lookup->resolver.cancel();
    const auto [timer_ec] = std::get<1>(outcome);
    if (timer_ec == net::error::operation_aborted) co_return Cancelled();
    co_return MakeError(UpstreamErrorKind::kTimeout, "timeout during dns resolve");
  }
  auto& [ec, results] = std::get<0>(outcome);
  if (ec) co_return IoError(ec, "dns resolve");
  std::vector<tcp::endpoint> endpoints;
  endpoints.reserve(results.size());
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) {
    co_return MakeError(UpstreamErrorKind::kUnavailable, "dns resolve found no address");
  }
  co_return endpoints;
}

Task<UpstreamResult<std::unique_ptr<Connection>>> AnthropicClient::Impl::Connect(
    Clock::time_point deadline, std::string_view request_id) {
  const Clock::time_point connect_deadline = Sooner(deadline, options.connect_timeout);
  UpstreamResult<std::vector<tcp::endpoint>> endpoints = co_await Resolve(connect_deadline);
  if (!endpoints) co_return endpoints.error();

  const auto executor = co_await net::this_coro::executor;
  TcpStream stream(executor);
  stream.expires_at(connect_deadline);
  auto [ec, connected] = co_await stream.async_connect(*endpoints, kAsTuple);
  if (ec) co_return IoError(ec, "connect");
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);  // Small writes go out at once.
  logger.Debug("upstream_connect", request_id, {{"tls", endpoint.tls}});
  if (!endpoint.tls) co_return std::make_unique<Connection>(std::move(stream));

  auto tls = std::make_unique<beast::ssl_stream<TcpStream>>(std::move(stream), *ssl_context);
  // SNI is for names only (RFC 6066); the certificate is checked either way.
  if (!endpoint.host_is_ip &&
      !SSL_set_tlsext_host_name(tls->native_handle(), endpoint.host.c_str())) {
    co_return MakeError(UpstreamErrorKind::kInternal, "cannot set TLS SNI host name");
  }
  tls->set_verify_callback(ssl::host_name_verification(endpoint.host));
  beast::get_lowest_layer(*tls).expires_at(connect_deadline);
  auto [handshake_ec] = co_await tls->async_handshake(ssl::stream_base::client, kAsTuple);
  if (handshake_ec) co_return IoError(handshake_ec, "tls handshake");
  co_return std::make_unique<Connection>(std::move(tls));
}

Task<UpstreamResult<AnthropicClient::Impl::Head>> AnthropicClient::Impl::Exchange(
    Request& request, std::size_t worker, const CallOptions& call) {
  if (Clock::now() >= call.deadline) {
    co_return MakeError(UpstreamErrorKind::kTimeout, "deadline passed before the call");
  }
  std::unique_ptr<Connection> connection = TakeIdle(worker);
  for (;;) {
    const bool reused = connection != nullptr;
    if (!reused) {
      UpstreamResult<std::unique_ptr<Connection>> fresh =
          co_await Connect(call.deadline, call.request_id);
      if (!fresh) co_return fresh.error();
      connection = std::move(*fresh);
    }
    connection->Tcp().expires_at(call.deadline);
    auto [write_ec, written] = co_await connection->Write(request);
    auto parser = std::make_unique<HeadParser>();
    parser->header_limit(kMaxHeaderBytes);
    // Set before the head is parsed: a Content-Length over the limit fails right there, and
    // the limit carries over when the parser changes its body type.
    parser->body_limit(options.max_response_bytes);
    error_code ec = write_ec;
    if (!ec) {
      connection->SizeReadBufferFor(request.stream);
      connection->Tcp().expires_at(call.deadline);
      std::tie(ec, std::ignore) = co_await connection->ReadHeader(*parser);
    }
    if (!ec) co_return Head{std::move(connection), std::move(parser)};
    const bool nothing_received = !parser->got_some() && !connection->HasBufferedBytes();
    connection.reset();
    if (reused && nothing_received && IsStaleConnectionError(ec)) {
      logger.Debug("upstream_connection_retry", call.request_id, {{"error", ec.message()}});
      continue;  // `connection` is empty: the retry opens a fresh one, once.
    }
    co_return IoError(ec, write_ec ? "request write" : "response head read");
  }
}

Task<UpstreamError> AnthropicClient::Impl::ReadErrorBody(std::unique_ptr<Connection> connection,
                                                         std::unique_ptr<HeadParser> head,
                                                         std::size_t worker,
                                                         Clock::time_point deadline) {
  StringParser parser(std::move(*head));
  parser.body_limit(options.max_response_bytes);
  connection->Tcp().expires_at(deadline);
  auto [ec, consumed] = co_await connection->Read(parser);
  const int status = static_cast<int>(parser.get().result_int());
  if (ec) {
    // The status alone still says what happened; the unread body only had the details.
    UpstreamError error = ParseErrorResponse(status, {}, RetryAfter(parser.get()));
    if (ec == beast::error::timeout || ec == net::error::operation_aborted) {
      error = IoError(ec, "error body read");
    }
    co_return error;
  }
  if (parser.get().keep_alive()) Release(worker, std::move(connection));
  co_return ParseErrorResponse(status, parser.get().body(), RetryAfter(parser.get()));
}

Task<UpstreamResult<core::Completion>> AnthropicClient::Impl::Complete(
    const core::CompletionRequest& request, CallOptions call) {
  Request http_request = MakeRequest(BuildMessagesBody(request, /*stream=*/false), false);
  const std::size_t worker = co_await CurrentWorker();
  UpstreamResult<Head> head = co_await Exchange(http_request, worker, call);
  if (!head) co_return head.error();

  StringParser parser(std::move(*head->parser));
  parser.body_limit(options.max_response_bytes);
  Connection& connection = *head->connection;
  error_code ec = connection.ParseBuffered(parser);
  if (!ec && !parser.is_done()) {
    connection.Tcp().expires_at(call.deadline);
    std::tie(ec, std::ignore) = co_await connection.Read(parser);
  }
  if (ec) co_return IoError(ec, "response body read");
  if (parser.get().keep_alive()) Release(worker, std::move(head->connection));

  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) {
    co_return ParseErrorResponse(status, parser.get().body(), RetryAfter(parser.get()));
  }
  co_return ParseMessageResponse(parser.get().body());
}

Task<UpstreamResult<std::unique_ptr<CompletionStream>>> AnthropicClient::Impl::OpenStream(
    const core::CompletionRequest& request, CallOptions call) {
  Request http_request = MakeRequest(BuildMessagesBody(request, /*stream=*/true), true);
  const std::size_t worker = co_await CurrentWorker();
  UpstreamResult<Head> head = co_await Exchange(http_request, worker, call);
  if (!head) co_return head.error();

  if (head->parser->get().result_int() != 200) {
    co_return co_await ReadErrorBody(std::move(head->connection), std::move(head->parser), worker,
                                     call.deadline);
  }
  auto parser = std::make_unique<StreamParser>(std::move(*head->parser));
  parser->body_limit(options.max_response_bytes);
  auto stream = std::make_unique<AnthropicStream>(*this, worker, std::move(head->connection),
                                                  std::move(parser), call.deadline);
  stream->ParseReceived();
  co_return stream;
}

AnthropicClient::AnthropicClient(AnthropicClientOptions options, core::WorkerPool& workers,
                                 observability::Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), workers, logger)) {}

AnthropicClient::~AnthropicClient() = default;

Task<UpstreamResult<core::Completion>> AnthropicClient::Complete(
    const core::CompletionRequest& request, CallOptions options) {
  return CancelledAsResult(impl_->Complete(request, options), "upstream call cancelled");
}

Task<UpstreamResult<std::unique_ptr<CompletionStream>>> AnthropicClient::OpenStream(
    const core::CompletionRequest& request, CallOptions options) {
  return CancelledAsResult(impl_->OpenStream(request, options), "upstream call cancelled");
}

std::string AnthropicClient::Describe() const { return impl_->endpoint.description; }

}  // namespace cms::upstream
