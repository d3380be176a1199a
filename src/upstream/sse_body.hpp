// File: upstream/sse_body.hpp
//
// SseBody: a Beast HTTP body type whose value is an SseParser. Beast's parser hands the body
// bytes (already de-chunked) straight to SseParser::Feed, so a streamed answer needs no read
// buffer of its own: the bytes go from the connection's buffer into the SSE parser, which
// keeps only the unfinished line and the complete events not yet pulled.
//
//   http::response_parser<SseBody> parser(std::move(head_parser));
//   co_await http::async_read_some(stream, buffer, parser, token);
//   while (auto event = parser.get().body().Next()) ...
//
// Why not buffer_body: it needs a buffer per open stream (4 KiB each with 10,000 streams
// open is 40 MB) and one more copy of every byte.
//
// Failures: none of its own. An event over the SSE parser's bound leaves the parser
// Overflowed() (it ignores later input); the caller checks after each read. The body size
// bound is the parser's body_limit().
// Thread safety: as the parser that owns it (one coroutine at a time).
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <boost/system/error_code.hpp>

#include "upstream/sse_parser.hpp"

namespace cms::upstream {

struct SseBody {
  using value_type = SseParser;

  class reader {
   public:
    template <bool kIsRequest, class Fields>
    reader(boost::beast::http::header<kIsRequest, Fields>& /*header*/, value_type& body)
        : body_(body) {}

    void init(const boost::optional<std::uint64_t>& /*content_length*/,
              boost::system::error_code& ec) {
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      ec = {};
      std::size_t consumed = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const boost::asio::const_buffer buffer = *it;
        body_.Feed(std::string_view(static_cast<const char*>(buffer.data()), buffer.size()));
        consumed += buffer.size();
      }
      return consumed;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace cms::upstream
