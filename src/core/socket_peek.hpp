// File: core/socket_peek.hpp
//
// What an idle socket holds right now, without reading it and without waiting: used to tell
// whether a pooled upstream connection can carry another request, and whether a caller who
// should be waiting for an answer has hung up or sent more bytes.
//
// Why not socket.non_blocking() around a peek: Asio applies the mode with an ioctl, and
// restoring it costs another, so that peek was four system calls on every upstream call.
// recv(MSG_PEEK | MSG_DONTWAIT) is one, and leaves the descriptor's mode alone.
#pragma once

#include "core/net.hpp"

namespace cms::core {

enum class SocketPeek {
  kEmpty,     // open, nothing to read
  kHasBytes,  // open, unread bytes waiting
  kClosed,    // the peer closed or reset it, or it is not open
};

[[nodiscard]] SocketPeek PeekSocket(TcpSocket& socket);

}  // namespace cms::core
