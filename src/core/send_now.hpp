// File: core/send_now.hpp
//
// Sends what a socket's send buffer takes right now, without waiting.
//
// Why: nearly every response and upstream request fits in the kernel's send buffer at
// once, yet an asynchronous write with a deadline (Beast's basic_stream) arms a timer,
// cancels it, and makes two more trips through the event loop to say so. Callers send
// first, and fall back to the asynchronous write, with its deadline, only for what the
// socket did not take.
#pragma once

#include <cstddef>
#include <span>
#include <tuple>

#include <boost/system/error_code.hpp>

#include "core/net.hpp"

namespace cms::core {

// Sends a prefix of `buffers` (all of it when the socket takes it) and returns its length.
// A full send buffer is not an error: the result is then shorter, possibly 0. Any other
// failure (the peer reset the connection, the socket is closed) sets `ec`. Never raises
// SIGPIPE.
[[nodiscard]] std::size_t SendNow(TcpSocket& socket, std::span<const net::const_buffer> buffers,
                                  boost::system::error_code& ec);

// Writes all of `buffers` to `stream`: what the socket takes now, then the rest by an
// asynchronous write bound by the stream's deadline (set by the caller, as for any Beast
// write). Completes with the error, if any, and the bytes written.
// REQUIRES: no other write on `stream` is pending; the buffers outlive the awaited call.
[[nodiscard]] Task<std::tuple<boost::system::error_code, std::size_t>> SendAll(
    TcpStream& stream, std::span<const net::const_buffer> buffers);

}  // namespace cms::core
