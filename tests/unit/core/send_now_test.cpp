#include "core/send_now.hpp"

#include <array>
#include <string>
#include <thread>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include "support/eventually.hpp"
#include "support/loopback_pair.hpp"

namespace cms::core {
namespace {

// A connected pair of loopback TCP sockets, ours as a Beast stream like the service's.
class SendNowTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_support::ConnectLoopbackPair(ours_.socket(), peer_); }

  std::string ReadFromPeer(std::size_t size) {
    std::string bytes(size, '\0');
    net::read(peer_, net::buffer(bytes));
    return bytes;
  }

  net::io_context context_;
  TcpStream ours_{context_.get_executor()};
  TcpSocket peer_{context_.get_executor()};
};

TEST_F(SendNowTest, SendsEveryBufferInOrderWhenTheSocketTakesThem) {
  const std::array<net::const_buffer, 3> buffers{net::buffer(std::string_view("head\r\n")),
                                                 net::const_buffer(),
                                                 net::buffer(std::string_view("body"))};
  boost::system::error_code ec;
  EXPECT_EQ(SendNow(ours_.socket(), buffers, ec), 10u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(ReadFromPeer(10), "head\r\nbody");
}

TEST_F(SendNowTest, AFullSendBufferIsAShortSendNotAnError) {
  // Far more than loopback's socket buffers hold while the peer reads nothing.
  const std::string big(64 << 20, 'x');
  const std::array<net::const_buffer, 1> buffers{net::buffer(big)};
  boost::system::error_code ec;
  const std::size_t first = SendNow(ours_.socket(), buffers, ec);
  EXPECT_FALSE(ec);
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, big.size());
  const std::array<net::const_buffer, 1> rest{net::buffer(big) + first};
  EXPECT_EQ(SendNow(ours_.socket(), rest, ec), 0u);
  EXPECT_FALSE(ec) << "would-block is not a failure";
}

TEST_F(SendNowTest, APeerThatResetIsAnError) {
  peer_.set_option(net::socket_base::linger(true, 0));  // close() sends RST
  peer_.close();
  const std::array<net::const_buffer, 1> buffers{net::buffer(std::string_view("x"))};
  boost::system::error_code ec;
  EXPECT_TRUE(testing_support::Eventually([&] {
    (void)SendNow(ours_.socket(), buffers, ec);
    return ec.failed();
  }));
  EXPECT_TRUE(ec == net::error::connection_reset || ec == net::error::broken_pipe) << ec.message();
}

TEST_F(SendNowTest, AClosedSocketIsAnError) {
  ours_.socket().close();
  const std::array<net::const_buffer, 1> buffers{net::buffer(std::string_view("x"))};
  boost::system::error_code ec;
  EXPECT_EQ(SendNow(ours_.socket(), buffers, ec), 0u);
  EXPECT_EQ(ec, net::error::bad_descriptor);
}

TEST_F(SendNowTest, SendAllWritesWhatTheSocketDidNotTakeOnceThePeerReads) {
  const std::string big(8 << 20, 'y');
  const std::array<net::const_buffer, 2> buffers{net::buffer(std::string_view("start:")),
                                                 net::buffer(big)};
  ours_.expires_after(std::chrono::seconds(30));
  auto future = net::co_spawn(context_, SendAll(ours_, buffers), net::use_future);
  std::thread io([this] { context_.run(); });
  const std::string received = ReadFromPeer(6 + big.size());
  io.join();
  const auto [ec, written] = future.get();
  EXPECT_FALSE(ec);
  EXPECT_EQ(written, 6 + big.size());
  EXPECT_EQ(received.substr(0, 6), "start:");
  EXPECT_EQ(received.find_first_not_of('y', 6), std::string::npos);
}

TEST_F(SendNowTest, SendAllTimesOutWhenThePeerNeverReads) {
  const std::string big(64 << 20, 'z');
  const std::array<net::const_buffer, 1> buffers{net::buffer(big)};
  ours_.expires_after(std::chrono::milliseconds(50));
  auto future = net::co_spawn(context_, SendAll(ours_, buffers), net::use_future);
  context_.run();
  const auto [ec, written] = future.get();
  EXPECT_EQ(ec, boost::beast::error::timeout);
  EXPECT_LT(written, big.size());
}

}  // namespace
}  // namespace cms::core
