// File: core/net.hpp
//
// Short names for the Asio and Beast namespaces used throughout the tree, and the
// completion token for coroutines that want I/O errors as values, not exceptions.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cms {

namespace net = boost::asio;

template <class T>
using Task = boost::asio::awaitable<T>;

// `auto [ec, n] = co_await op(..., kAsTuple);`: expected I/O outcomes as values.
inline constexpr auto kAsTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace cms
