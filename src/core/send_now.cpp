// File: core/send_now.cpp
#include "core/send_now.hpp"

#include <array>
#include <cerrno>

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

namespace cms::core {

std::size_t SendNow(TcpSocket& socket, std::span<const net::const_buffer> buffers,
                    boost::system::error_code& ec) {
  ec.clear();
  if (!socket.is_open()) {
    ec = net::error::bad_descriptor;
    return 0;
  }
  // Callers gather a head and a body, or a few events: more than this many buffers go in
  // the asynchronous write that follows.
  constexpr std::size_t kMaxBuffers = 16;
  std::array<iovec, kMaxBuffers> vectors{};
  std::size_t count = 0;
  for (const net::const_buffer& buffer : buffers) {
    if (count == kMaxBuffers) break;
    if (buffer.size() == 0) continue;
    // sendmsg never writes through iov_base; iovec is shared with readv, hence non-const.
    vectors[count++] = iovec{const_cast<void*>(buffer.data()), buffer.size()};
  }
  if (count == 0) return 0;
  msghdr message{};
  message.msg_iov = vectors.data();
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    ec.assign(errno, boost::asio::error::get_system_category());
    return 0;
  }
}

Task<std::tuple<boost::system::error_code, std::size_t>> SendAll(
    TcpStream& stream, std::span<const net::const_buffer> buffers) {
  boost::system::error_code ec;
  const std::size_t sent = SendNow(stream.socket(), buffers, ec);
  if (ec || sent == net::buffer_size(buffers)) co_return std::tuple{ec, sent};
  boost::beast::buffers_suffix<std::span<const net::const_buffer>> rest(buffers);
  rest.consume(sent);
  auto [write_ec, written] = co_await net::async_write(stream, rest, kAsTuple);
  co_return std::tuple{write_ec, sent + written};
}

}  // namespace cms::core
