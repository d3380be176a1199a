// File: http/caller_monitor.hpp
//
// CallerMonitor: tells a handler that waits on something other than its caller (an upstream
// answer) when the caller has gone: the peer closed or reset the connection, or the
// server's drain ended the wait past its grace. One per connection (ConnectionState owns it).
//
//   CallerMonitor::Watch watch = exchange.WatchCaller();
//   if (watch.CallerGone()) ...;                       // gone already (a drain past its grace)
//   co_await op(..., net::bind_cancellation_slot(watch.Slot(), kAsTuple));
//   if (watch.CallerGone()) ...;                       // op was cancelled (terminal) for it
//
// Why the readiness wait outlives the watch: Asio 1.81 tries every read at once before it
// waits for readiness, so the server's read of the next request, started right after the
// answer, found nothing and cost a system call on every keep-alive request. A read queued
// behind a pending wait is not tried at once; it runs when epoll reports the bytes. So the
// wait armed for one request stays armed until the caller sends again (or leaves), and when
// the answer comes first nothing has to be cancelled. The wait completes on the next request
// with nobody listening, and does nothing more.
//
// What the wait's completion means while a watch listens:
// an error or a cancellation is a departure; readable with no bytes is a spurious wakeup (wait
// again); readable with bytes is a pipelined request: the caller is still there, and from then
// on only a socket error is waited for, so a reset is still seen and nothing spins.
//
// Thread safety: the connection's worker thread only.
#pragma once

#include <memory>

#include <boost/asio/cancellation_signal.hpp>

#include "core/net.hpp"

namespace cms::http {

class CallerMonitor {
  struct State;

 public:
  // REQUIRES: `socket` and `terminating` (set when the drain's grace is over, before the
  // socket's operations are cancelled) outlive this monitor.
  CallerMonitor(TcpSocket& socket, const bool& terminating);
  // A wait still pending completes later, when the socket closes, and touches nothing.
  ~CallerMonitor();
  CallerMonitor(const CallerMonitor&) = delete;
  CallerMonitor& operator=(const CallerMonitor&) = delete;

  // One handler's interest in its caller, from WatchCaller() until destroyed.
  class Watch {
   public:
    explicit Watch(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch(Watch&&) = delete;
    Watch& operator=(Watch&&) = delete;

    // Emitted (terminal) once, when the caller is found gone while this watch lives. Bind it
    // to one operation at a time.
    [[nodiscard]] net::cancellation_slot Slot() const;
    [[nodiscard]] bool CallerGone() const;

   private:
    std::shared_ptr<State> state_;
  };

  // Starts watching: arms the readiness wait unless one is pending. At most one Watch at a
  // time per connection.
  [[nodiscard]] Watch WatchCaller();

 private:
  // Arms the readiness wait (`wait_read`, or `wait_error` after a pipelined request).
  static void Arm(const std::shared_ptr<State>& state, TcpSocket::wait_type type);
  static void OnWaitDone(const std::shared_ptr<State>& state, unsigned generation,
                         const boost::system::error_code& ec);

  std::shared_ptr<State> state_;
};

}  // namespace cms::http
