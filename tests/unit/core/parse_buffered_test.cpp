#include "core/parse_buffered.hpp"

#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

namespace cms::core {
namespace {

namespace http = boost::beast::http;

using RequestParser = http::request_parser<http::string_body>;

// What a connection holds after its head read: `bytes` in the buffer, the head parsed (as
// Beast's async_read_header leaves it: the head consumed, the rest still buffered).
class ParseBufferedTest : public ::testing::Test {
 protected:
  void Receive(std::string_view bytes) {
    const auto space = buffer_.prepare(bytes.size());
    boost::asio::buffer_copy(space, boost::asio::buffer(bytes.data(), bytes.size()));
    buffer_.commit(bytes.size());
  }

  void ParseHead() {
    boost::system::error_code ec;
    const std::size_t used = parser_.put(buffer_.data(), ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(parser_.is_header_done());
    buffer_.consume(used);
  }

  [[nodiscard]] std::string Buffered() const {
    return boost::beast::buffers_to_string(buffer_.data());
  }

  boost::beast::flat_buffer buffer_;
  RequestParser parser_;
};

constexpr std::string_view kHead =
    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
constexpr std::string_view kChunkedHead =
    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(ParseBufferedTest, ABodyReceivedWithItsHeadCompletesTheMessage) {
  Receive(std::string(kHead) + "hello");
  ParseHead();
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  ASSERT_TRUE(parser_.is_done());
  EXPECT_EQ(parser_.get().body(), "hello");
  EXPECT_EQ(buffer_.size(), 0u);
}

TEST_F(ParseBufferedTest, APipelinedRequestAfterTheBodyStaysBuffered) {
  const std::string next = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  Receive(std::string(kHead) + "hello" + next);
  ParseHead();
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  ASSERT_TRUE(parser_.is_done());
  EXPECT_EQ(parser_.get().body(), "hello");
  EXPECT_EQ(Buffered(), next);
}

TEST_F(ParseBufferedTest, APartBodyIsTakenAndTheRestLeftToRead) {
  Receive(std::string(kHead) + "he");
  ParseHead();
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  EXPECT_FALSE(parser_.is_done());
  EXPECT_EQ(buffer_.size(), 0u);
  Receive("llo");
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  ASSERT_TRUE(parser_.is_done());
  EXPECT_EQ(parser_.get().body(), "hello");
}

TEST_F(ParseBufferedTest, AChunkHeaderCutShortIsNotParsedTwice) {
  // A whole first chunk, then one digit of the next chunk's size line.
  Receive(std::string(kChunkedHead) + "3\r\nabc\r\n4");
  ParseHead();
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  EXPECT_FALSE(parser_.is_done());
  Receive("\r\ndefg\r\n0\r\n\r\n");
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  ASSERT_TRUE(parser_.is_done());
  EXPECT_EQ(parser_.get().body(), "abcdefg");
}

TEST_F(ParseBufferedTest, ABodyOverTheLimitIsAnError) {
  parser_.body_limit(4);
  Receive(std::string(kChunkedHead) + "5\r\nhello\r\n0\r\n\r\n");
  ParseHead();
  EXPECT_EQ(ParseBuffered(parser_, buffer_), http::error::body_limit);
}

// Left eager, a parser makes Beast's async_read_some read until the whole message is in (a
// stream's events would all wait for its end): the option is restored, either way.
TEST_F(ParseBufferedTest, TheParserIsLeftEagerOnlyIfItWasEagerBefore) {
  Receive(std::string(kChunkedHead) + "3\r\nabc\r\n");
  ParseHead();
  ASSERT_FALSE(parser_.eager());
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  EXPECT_EQ(parser_.get().body(), "abc");
  EXPECT_FALSE(parser_.eager());
  parser_.eager(true);
  Receive("3\r\ndef\r\n");
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  EXPECT_EQ(parser_.get().body(), "abcdef");
  EXPECT_TRUE(parser_.eager());
}

TEST_F(ParseBufferedTest, NothingBufferedLeavesTheParserAsItWas) {
  Receive(kHead);
  ParseHead();
  EXPECT_FALSE(ParseBuffered(parser_, buffer_));
  EXPECT_FALSE(parser_.is_done());
}

}  // namespace
}  // namespace cms::core
