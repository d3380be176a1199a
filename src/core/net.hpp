// File: core/net.hpp
//
// Short names for the Asio and Beast namespaces used throughout the tree, the executor every
// coroutine runs on, the I/O object types bound to it, and the completion token for
// coroutines that want I/O errors as values, not exceptions.
//
// Why a concrete executor: every coroutine and I/O object runs on one worker's io_context
// (core::WorkerPool), never on a strand or a thread pool, so nothing needs Asio's
// type-erased any_io_executor. Copying and dispatching through it was a quarter of the
// instructions of a proxied request (callgrind); io_context's own executor is a pointer.
#pragma once

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace cms {

namespace net = boost::asio;

using Executor = boost::asio::io_context::executor_type;

template <class T>
using Task = boost::asio::awaitable<T, Executor>;

// `co_await op(..., kUseTask)`: completes the operation in a Task (errors thrown).
inline constexpr boost::asio::use_awaitable_t<Executor> kUseTask{};
// `auto [ec, n] = co_await op(..., kAsTuple);`: expected I/O outcomes as values.
inline constexpr auto kAsTuple = boost::asio::as_tuple(kUseTask);

using SteadyTimer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
using TcpSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using TcpAcceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using TcpResolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor>;
using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor>;

}  // namespace cms
