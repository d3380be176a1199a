// File: core/socket_peek.cpp
#include "core/socket_peek.hpp"

#include <cerrno>

#include <sys/socket.h>

namespace cms::core {

SocketPeek PeekSocket(TcpSocket& socket) {
  if (!socket.is_open()) return SocketPeek::kClosed;
  char byte = 0;
  for (;;) {
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return SocketPeek::kHasBytes;
    if (n == 0) return SocketPeek::kClosed;  // orderly shutdown by the peer
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SocketPeek::kEmpty;
    return SocketPeek::kClosed;  // reset, or any other error: the socket is unusable
  }
}

}  // namespace cms::core
