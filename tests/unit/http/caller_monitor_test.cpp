#include "http/caller_monitor.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/loopback_pair.hpp"

namespace cms::http {
namespace {

using namespace std::chrono_literals;

// The monitor watches a real loopback TCP socket (`ours_`); `peer_` plays the caller. A
// handler's wait is stood in for by a long timer bound to the watch's slot: it ends early
// only when the watch cancels it.
class CallerMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_support::ConnectLoopbackPair(ours_, peer_); }

  // Waits on a timer of `limit`, cancellable through `watch`. Returns how the wait ended:
  // operation_aborted when the watch cancelled it, success when the limit passed.
  boost::system::error_code WaitWatched(const CallerMonitor::Watch& watch,
                                        std::chrono::milliseconds limit) {
    net::steady_timer timer(context_, limit);
    std::optional<boost::system::error_code> outcome;
    timer.async_wait(net::bind_cancellation_slot(
        watch.Slot(), [&](const boost::system::error_code& ec) { outcome = ec; }));
    context_.restart();
    while (!outcome && context_.run_one() > 0) {
    }
    return outcome.value_or(net::error::would_block);
  }

  // The watched wait ends early, cancelled because the caller is gone.
  void ExpectDepartureSeen(const CallerMonitor::Watch& watch) {
    EXPECT_EQ(WaitWatched(watch, 10s), net::error::operation_aborted);
    EXPECT_TRUE(watch.CallerGone());
  }

  // The watched wait runs to its limit: nothing was taken for a departure.
  void ExpectNoDeparture(const CallerMonitor::Watch& watch, std::chrono::milliseconds limit) {
    EXPECT_EQ(WaitWatched(watch, limit), boost::system::error_code{});
    EXPECT_FALSE(watch.CallerGone());
  }

  // Runs whatever is ready now (a completion that came in, with nobody waiting on it).
  void RunReady() {
    context_.restart();
    context_.poll();
  }

  void ResetPeer() {
    peer_.set_option(net::socket_base::linger(true, 0));
    peer_.close();
  }

  net::io_context context_;
  TcpSocket ours_{context_.get_executor()};
  TcpSocket peer_{context_.get_executor()};
  bool terminating_ = false;
  CallerMonitor monitor_{ours_, terminating_};
};

TEST_F(CallerMonitorTest, ACallerThatStaysIsNotGone) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  ExpectNoDeparture(watch, 50ms);
}

TEST_F(CallerMonitorTest, ACallerThatClosesCancelsTheWatchedWait) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  peer_.close();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, ACallerThatResetsCancelsTheWatchedWait) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  ResetPeer();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, APipelinedRequestIsNotADepartureAndIsLeftUnread) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  net::write(peer_, net::buffer(std::string_view("GET / HTTP/1.1\r\n\r\n")));
  // Readable, with bytes: the caller is still there; the wait is not cancelled (and does
  // not spin on the readable socket either: the timer's limit is reached).
  ExpectNoDeparture(watch, 100ms);
  std::array<char, 18> request{};
  net::read(ours_, net::buffer(request));
  EXPECT_EQ(std::string_view(request.data(), request.size()), "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(CallerMonitorTest, AfterAPipelinedRequestAResetIsStillSeen) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  net::write(peer_, net::buffer(std::string_view("x")));
  ExpectNoDeparture(watch, 100ms);
  ResetPeer();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, TheNextWatchSeesAClosingCallerAgainAfterAPipelinedRequest) {
  {
    const CallerMonitor::Watch first = monitor_.WatchCaller();
    net::write(peer_, net::buffer(std::string_view("x")));
    ExpectNoDeparture(first, 100ms);
  }
  std::array<char, 1> pipelined{};
  net::read(ours_, net::buffer(pipelined));  // The server reads the pipelined request.
  const CallerMonitor::Watch second = monitor_.WatchCaller();
  peer_.close();  // A plain close (FIN), which a wait for errors only would miss.
  ExpectDepartureSeen(second);
}

TEST_F(CallerMonitorTest, WithNoWatchTheNextRequestIsLeftToTheServersRead) {
  { const CallerMonitor::Watch watch = monitor_.WatchCaller(); }
  net::write(peer_, net::buffer(std::string_view("next")));
  // The wait armed for the finished watch completes on these bytes with nobody listening.
  RunReady();
  std::array<char, 4> next{};
  net::read(ours_, net::buffer(next));
  EXPECT_EQ(std::string_view(next.data(), next.size()), "next");
  // And the next watch is armed afresh and works.
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  EXPECT_FALSE(watch.CallerGone());
  peer_.close();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, ACallerWhoLeftBetweenRequestsIsFoundGoneByTheNextWatch) {
  // The wait completes on the close with nobody listening; a watch started before the
  // server's read sees the close still finds the caller gone, from the socket itself.
  { const CallerMonitor::Watch watch = monitor_.WatchCaller(); }
  peer_.close();
  RunReady();
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, OnceTheDrainIsPastItsGraceEveryWatchIsGoneAtOnce) {
  terminating_ = true;
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  EXPECT_TRUE(watch.CallerGone());
}

TEST_F(CallerMonitorTest, TheDrainCancellingTheSocketEndsAWatchedWait) {
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  // What Server::Drain does past its grace: set the flag, cancel the socket's operations.
  terminating_ = true;
  ours_.cancel();
  ExpectDepartureSeen(watch);
}

TEST_F(CallerMonitorTest, ADepartureWithNobodyWatchingCancelsNothingLater) {
  { const CallerMonitor::Watch watch = monitor_.WatchCaller(); }
  // An idle-connection drain cancels the pending read and, with it, the monitor's wait.
  ours_.cancel();
  RunReady();
  const CallerMonitor::Watch watch = monitor_.WatchCaller();
  ExpectNoDeparture(watch, 50ms);
}

TEST(CallerMonitorLifetimeTest, AWaitPendingWhenTheMonitorGoesCompletesHarmlessly) {
  net::io_context context;
  TcpSocket ours{context.get_executor()};
  TcpSocket peer{context.get_executor()};
  testing_support::ConnectLoopbackPair(ours, peer);
  bool terminating = false;
  auto monitor = std::make_unique<CallerMonitor>(ours, terminating);
  { const CallerMonitor::Watch watch = monitor->WatchCaller(); }
  monitor.reset();  // As a connection ends: the monitor first, then its socket.
  ours.close();     // The pending wait completes now, with operation_aborted.
  EXPECT_GE(context.poll(), 1U);
}

}  // namespace
}  // namespace cms::http
