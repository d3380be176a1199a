// File: upstream/cancelled_as_result.hpp
//
// CancelledAsResult: runs an upstream coroutine and turns the operation_aborted exception
// Asio throws when an already cancelled coroutine co_awaits again (a completion that raced
// the cancellation) into a kCancelled result, so callers of a Provider always get a value.
#pragma once

#include <string>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "core/net.hpp"
#include "upstream/upstream_error.hpp"

namespace cms::upstream {

// Called in a catch handler: returns when `error` is that operation_aborted (the caller then
// reports kCancelled), rethrows the exception being handled otherwise. For a coroutine that
// catches it in its own body rather than through CancelledAsResult's extra frame.
inline void RethrowUnlessCancelled(const boost::system::system_error& error) {
  if (error.code() != boost::asio::error::operation_aborted) throw;
}

template <class T>
Task<UpstreamResult<T>> CancelledAsResult(Task<UpstreamResult<T>> task, std::string what) {
  try {
    co_return co_await std::move(task);
  } catch (const boost::system::system_error& error) {
    RethrowUnlessCancelled(error);
  }
  co_return MakeUpstreamError(UpstreamErrorKind::kCancelled, std::move(what));
}

}  // namespace cms::upstream
