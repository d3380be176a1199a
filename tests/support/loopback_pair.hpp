// File: tests/support/loopback_pair.hpp
//
// Two connected TCP sockets over loopback, for tests of code that works on a real socket
// (peeking, sending without waiting): `ours` is connected to `peer`, which the test then
// reads, writes, closes or resets. Header-only; blocking, before any I/O runs.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "core/net.hpp"

namespace cms::testing_support {

inline void ConnectLoopbackPair(TcpSocket& ours, TcpSocket& peer) {
  TcpAcceptor acceptor{ours.get_executor(),
                       boost::asio::ip::tcp::endpoint(boost::asio::ip::tcp::v4(), 0)};
  ours.connect(acceptor.local_endpoint());
  acceptor.accept(peer);
}

}  // namespace cms::testing_support
