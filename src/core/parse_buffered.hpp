// File: core/parse_buffered.hpp
//
// Parses, without waiting, the part of an HTTP message that a connection's read buffer
// already holds once its head is parsed: a request's body, or an upstream answer's. Small
// messages arrive whole, head and body in one read, and an asynchronous read that finds
// nothing left to read still costs a trip through the event loop. Callers read
// asynchronously only when the message is still incomplete.
#pragma once

#include <cstddef>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/error_code.hpp>

namespace cms::core {

// Feeds `parser` what `buffer` holds and consumes what it parsed; the bytes past the end of
// the message (a pipelined request) stay in `buffer`. Returns the parse error (a body over
// the parser's limit, a malformed chunk); none when the message is complete or more bytes
// are needed: check parser.is_done(). The parser's eager option is as it was before.
template <bool isRequest>
boost::system::error_code ParseBuffered(boost::beast::http::basic_parser<isRequest>& parser,
                                        boost::beast::flat_buffer& buffer) {
  if (buffer.size() == 0 || parser.is_done()) return {};
  // Eager for this parse only, so all that is buffered is taken. Left eager, the parser
  // would make every later async_read_some read on until the whole message is in: a stream
  // would hand its caller nothing before its last byte.
  const bool was_eager = parser.eager();
  parser.eager(true);
  boost::system::error_code ec;
  // Counts what was parsed before any error, need_more included (an eager parse stops
  // inside a chunk header it cannot finish): those bytes must not be fed again.
  const std::size_t used = parser.put(buffer.data(), ec);
  parser.eager(was_eager);
  buffer.consume(used);
  if (ec == boost::beast::http::error::need_more) return {};
  return ec;
}

}  // namespace cms::core
