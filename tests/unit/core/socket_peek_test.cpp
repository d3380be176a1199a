#include "core/socket_peek.hpp"

#include <array>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/eventually.hpp"
#include "support/loopback_pair.hpp"

namespace cms::core {
namespace {

// A connected pair of loopback TCP sockets: what the service peeks at is a real TCP socket.
class SocketPeekTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_support::ConnectLoopbackPair(ours_, peer_); }

  net::io_context context_;
  TcpSocket ours_{context_.get_executor()};
  TcpSocket peer_{context_.get_executor()};
};

TEST_F(SocketPeekTest, AnOpenQuietSocketIsEmpty) {
  EXPECT_EQ(PeekSocket(ours_), SocketPeek::kEmpty);
}

TEST_F(SocketPeekTest, UnreadBytesAreSeenAndLeftInPlace) {
  net::write(peer_, net::buffer(std::string_view("ab")));
  EXPECT_EQ(PeekSocket(ours_), SocketPeek::kHasBytes);
  std::array<char, 2> read{};
  net::read(ours_, net::buffer(read));
  EXPECT_EQ(std::string_view(read.data(), read.size()), "ab");
  EXPECT_EQ(PeekSocket(ours_), SocketPeek::kEmpty);
}

TEST_F(SocketPeekTest, APeerThatClosedIsClosed) {
  peer_.close();
  // The FIN crosses loopback at once, but nothing promises before the first peek.
  EXPECT_TRUE(testing_support::Eventually([&] { return PeekSocket(ours_) != SocketPeek::kEmpty; }));
  EXPECT_EQ(PeekSocket(ours_), SocketPeek::kClosed);
}

TEST_F(SocketPeekTest, ASocketWeClosedIsClosed) {
  ours_.close();
  EXPECT_EQ(PeekSocket(ours_), SocketPeek::kClosed);
}

TEST_F(SocketPeekTest, PeekingLeavesTheSocketsModeAlone) {
  // Asio keeps the descriptor in blocking mode until an asynchronous operation needs
  // otherwise; a peek that flipped it would change what a later synchronous read does.
  ASSERT_FALSE(ours_.non_blocking());
  (void)PeekSocket(ours_);
  EXPECT_FALSE(ours_.non_blocking());
}

}  // namespace
}  // namespace cms::core
