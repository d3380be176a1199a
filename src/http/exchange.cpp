#include "http/exchange.hpp"

#include <array>
#include <charconv>
#include <stdexcept>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/throw_exception.hpp>

#include "core/parse_buffered.hpp"
#include "core/send_now.hpp"
#include "http/connection_state.hpp"

namespace cms::http {

void throw_exception_from_error(BodyError error, const boost::source_location& location) {
  boost::throw_exception(
      std::runtime_error(error == BodyError::kTooLarge ? "request body too large"
                                                       : "request body unreadable"),
      location);
}

Exchange::Exchange(ConnectionState& connection, bhttp::request_parser<bhttp::string_body>& parser,
                   std::string request_id, Clock::time_point arrived_at)
    : connection_(connection),
      parser_(parser),
      request_id_(std::move(request_id)),
      arrived_at_(arrived_at) {}

const bhttp::request_header<>& Exchange::Head() const { return parser_.get(); }

std::string_view Exchange::Path() const {
  const std::string_view target = parser_.get().target();
  const auto query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

std::string_view Exchange::Header(std::string_view name) const {
  const auto it = parser_.get().find(name);
  return it == parser_.get().end() ? std::string_view{} : std::string_view(it->value());
}

std::size_t Exchange::WorkerIndex() const { return connection_.worker_index; }

Task<boost::system::result<std::string, BodyError>> Exchange::ReadBody() {
  body_read_ = true;
  const auto declared = parser_.content_length();
  if (declared && *declared > connection_.options.max_request_bytes) {
    // Refuse on the declared length alone: the rest is never buffered.
    connection_.broken = true;
    co_return BodyError::kTooLarge;
  }
  // Small bodies arrive with their head: parsed from the buffer, no read to wait for.
  if (const auto ec = core::ParseBuffered(parser_, connection_.buffer)) {
    connection_.broken = true;
    co_return ec == bhttp::error::body_limit ? BodyError::kTooLarge : BodyError::kBroken;
  }
  if (!parser_.is_done()) {
    if (bhttp::token_list(Header("Expect")).exists("100-continue")) {
      // The client waits for this before sending the body; we only send it once the request
      // passed authentication (the handler calls ReadBody after its checks).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      const std::array<net::const_buffer, 1> line{net::buffer(kContinue.data(), kContinue.size())};
      if (!co_await WriteAll(line)) co_return BodyError::kBroken;
    }
    connection_.stream.expires_after(connection_.options.body_timeout);
    auto [ec, n] =
        co_await bhttp::async_read(connection_.stream, connection_.buffer, parser_, kAsTuple);
    if (ec) {
      connection_.broken = true;
      co_return ec == bhttp::error::body_limit ? BodyError::kTooLarge : BodyError::kBroken;
    }
  }
  co_return std::move(parser_.get().body());
}

ResponseHead Exchange::StartHead(unsigned status, bool keep_alive) const {
  const unsigned version = parser_.get().version();
  ResponseHead head{status, version};
  head.Add("X-Request-Id", request_id_);
  connection_.options.cors.AddResponseHeaders(Header("Origin"), head);
  if (!keep_alive) {
    head.Add("Connection", "close");
  } else if (version == 10) {
    head.Add("Connection", "keep-alive");
  }
  return head;
}

bool Exchange::KeepsAlive() const {
  return parser_.get().keep_alive() && !close_after_ && !connection_.broken &&
         !connection_.draining.load(std::memory_order_relaxed);
}

Task<bool> Exchange::WriteAll(std::span<const net::const_buffer> buffers) {
  connection_.stream.expires_after(connection_.options.write_timeout);
  auto [ec, n] = co_await core::SendAll(connection_.stream, buffers);
  if (ec) {
    connection_.broken = true;
    co_return false;
  }
  co_return true;
}

Task<bool> Exchange::WriteHeadAndBody(std::string head, std::string_view body) {
  const std::array<net::const_buffer, 2> buffers{net::buffer(head),
                                                 net::buffer(body.data(), body.size())};
  co_return co_await WriteAll(buffers);
}

Task<bool> Exchange::Respond(bhttp::status status, std::string body, HeaderList extra,
                             std::string_view content_type) {
  responded_ = true;
  status_ = static_cast<unsigned>(status);
  // A body we did not read (refused before reading, or partly read) leaves the connection
  // unusable for another request.
  if (!parser_.is_done()) connection_.broken = true;
  const bool keep_alive = KeepsAlive();
  if (!keep_alive) close_after_ = true;
  ResponseHead head = StartHead(status_, keep_alive);
  for (auto& [name, value] : extra) head.Add(name, value);
  // 204 and 304 carry neither a body nor a length (RFC 9110 section 8.6).
  const bool bodiless =
      status == bhttp::status::no_content || status == bhttp::status::not_modified;
  if (bodiless) {
    body.clear();
  } else {
    head.Add("Content-Type", content_type);
    head.AddContentLength(body.size());
  }
  co_return co_await WriteHeadAndBody(head.Finish(), body);
}

Task<bool> Exchange::BeginEventStream(HeaderList extra, HeadTiming timing) {
  responded_ = true;
  event_stream_ = true;
  status_ = 200;
  if (!parser_.is_done()) connection_.broken = true;
  // HTTP/1.0 has no chunked framing: the end of the stream is then the end of the connection.
  chunked_ = parser_.get().version() >= 11;
  const bool keep_alive = chunked_ && KeepsAlive();
  if (!keep_alive) close_after_ = true;
  ResponseHead head = StartHead(status_, keep_alive);
  head.Add("Content-Type", "text/event-stream");
  head.Add("Cache-Control", "no-cache");
  head.Add("X-Accel-Buffering", "no");
  for (auto& [name, value] : extra) head.Add(name, value);
  if (chunked_) head.Add("Transfer-Encoding", "chunked");
  if (timing == HeadTiming::kWithFirstEvents) {
    pending_head_ = head.Finish();
    co_return !connection_.broken;
  }
  co_return co_await WriteHeadAndBody(head.Finish(), {});
}

Task<bool> Exchange::FlushEventStreamHead() { return WriteEventStreamPart({}, /*last=*/false); }

namespace {

// The size line of one chunk of chunked framing (hex, CRLF). to_chars, not snprintf, which
// was 2% of a stream's CPU.
class ChunkSizeLine {
 public:
  explicit ChunkSizeLine(std::size_t chunk_bytes) {
    const auto [end, ec] =
        std::to_chars(text_.data(), text_.data() + text_.size() - 2, chunk_bytes, 16);
    *end = '\r';
    *(end + 1) = '\n';
    length_ = static_cast<std::size_t>(end + 2 - text_.data());
  }
  [[nodiscard]] net::const_buffer Buffer() const { return net::buffer(text_.data(), length_); }

 private:
  std::array<char, 20> text_{};
  std::size_t length_ = 0;
};

constexpr std::string_view kChunkEnd = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace

Task<bool> Exchange::WriteEvents(std::string_view events) {
  if (events.empty()) co_return !connection_.broken;
  co_return co_await WriteEventStreamPart(events, /*last=*/false);
}

Task<bool> Exchange::EndEventStream(std::string_view final_events) {
  if (connection_.broken) co_return false;
  // HTTP/1.0 has no end marker: the stream ends when the connection does.
  if (!chunked_) close_after_ = true;
  co_return co_await WriteEventStreamPart(final_events, /*last=*/chunked_);
}

Task<bool> Exchange::WriteEventStreamPart(std::string_view events, bool last) {
  if (connection_.broken) co_return false;
  // Taken out first: whatever the write's outcome, the head is never sent twice.
  const std::string head = std::exchange(pending_head_, std::string());
  const bool framed = chunked_ && !events.empty();
  const ChunkSizeLine size_line(events.size());
  const std::array<net::const_buffer, 5> buffers{
      net::buffer(head), framed ? size_line.Buffer() : net::const_buffer(),
      net::buffer(events.data(), events.size()),
      net::buffer(kChunkEnd.data(), framed ? kChunkEnd.size() : 0),
      net::buffer(kLastChunk.data(), last ? kLastChunk.size() : 0)};
  if (net::buffer_size(buffers) == 0) co_return true;
  co_return co_await WriteAll(buffers);
}

void Exchange::AbortEventStream() {
  // No terminating chunk: the client's HTTP layer reports an incomplete body, in addition to
  // the error event it already received.
  if (!pending_head_.empty() && !connection_.broken) {
    // The caller still learns the stream began; it then sees it cut, as after any abort.
    const std::array<net::const_buffer, 1> head{net::buffer(pending_head_)};
    boost::system::error_code not_sent;
    (void)core::SendNow(connection_.stream.socket(), head, not_sent);
    pending_head_.clear();
  }
  connection_.broken = true;
  close_after_ = true;
  boost::system::error_code ignored;
  connection_.stream.socket().shutdown(TcpSocket::shutdown_both, ignored);
}

bool Exchange::ServerTerminating() const { return connection_.terminating; }

CallerMonitor::Watch Exchange::WatchCaller() { return connection_.caller_monitor.WatchCaller(); }

}  // namespace cms::http
