#include "http/caller_monitor.hpp"

#include "core/socket_peek.hpp"

namespace cms::http {

struct CallerMonitor::State {
  State(TcpSocket& socket_in, const bool& terminating_in)
      : socket(&socket_in), terminating(&terminating_in) {}

  TcpSocket* socket;
  const bool* terminating;
  net::cancellation_signal signal;
  bool listening = false;    // A Watch lives.
  bool gone = false;         // Found gone while listening; never reset (the connection ends).
  bool armed = false;        // A wait is pending on the socket.
  bool errors_only = false;  // The pending wait is for a socket error only (see the header).
  bool detached = false;     // The monitor is destroyed: completions touch nothing.
  unsigned generation = 0;   // Of the wait whose completion counts; older ones are ignored.
};

namespace {

// What a completed wait for the caller's socket to become readable (`ec`) meant:
//   kGone:      EOF, reset, a broken connection, or the drain ended the wait (cancelled).
//   kNone:      a spurious wakeup; wait again.
//   kSentBytes: the caller sent more bytes (a pipelined request). It is still there, and
//               its socket stays readable.
enum class CallerActivity { kGone, kNone, kSentBytes };

CallerActivity CallerActivityAfterWait(TcpSocket& socket, const boost::system::error_code& ec) {
  // operation_aborted: the drain past its grace cancelled the socket's operations; any other
  // error: the connection broke.
  if (ec) return CallerActivity::kGone;
  switch (core::PeekSocket(socket)) {
    case core::SocketPeek::kEmpty:
      return CallerActivity::kNone;
    case core::SocketPeek::kHasBytes:
      return CallerActivity::kSentBytes;
    case core::SocketPeek::kClosed:
      break;
  }
  return CallerActivity::kGone;
}

}  // namespace

void CallerMonitor::OnWaitDone(const std::shared_ptr<State>& state, unsigned generation,
                               const boost::system::error_code& ec) {
  if (state->detached || generation != state->generation) return;
  state->armed = false;
  // Nobody listens: the answer went first, and this is the next request (or the caller
  // leaving between requests), which the server's read sees for itself.
  if (!state->listening) return;
  // Waiting for errors only, any completion is one (unread bytes stay readable after a reset,
  // so a peek would say the caller is still there).
  const CallerActivity activity =
      state->errors_only ? CallerActivity::kGone : CallerActivityAfterWait(*state->socket, ec);
  switch (activity) {
    case CallerActivity::kNone:
      Arm(state, TcpSocket::wait_read);
      return;
    case CallerActivity::kSentBytes:
      Arm(state, TcpSocket::wait_error);
      return;
    case CallerActivity::kGone:
      state->gone = true;
      state->signal.emit(net::cancellation_type::terminal);
      return;
  }
}

void CallerMonitor::Arm(const std::shared_ptr<State>& state, TcpSocket::wait_type type) {
  state->armed = true;
  state->errors_only = type == TcpSocket::wait_error;
  const unsigned generation = ++state->generation;
  state->socket->async_wait(type, [state, generation](const boost::system::error_code& ec) {
    OnWaitDone(state, generation, ec);
  });
}

CallerMonitor::CallerMonitor(TcpSocket& socket, const bool& terminating)
    : state_(std::make_shared<State>(socket, terminating)) {}

CallerMonitor::~CallerMonitor() { state_->detached = true; }

CallerMonitor::Watch CallerMonitor::WatchCaller() {
  State& state = *state_;
  state.listening = true;
  if (*state.terminating) {
    state.gone = true;
  } else if (!state.gone) {
    if (state.armed && state.errors_only) {
      // Left waiting for errors by an earlier pipelined request, which has been read since:
      // this caller's leaving must be seen again. Nothing else is pending on the socket while
      // a handler runs, so cancelling its operations cancels only that wait.
      boost::system::error_code ignored;
      state.socket->cancel(ignored);
      state.armed = false;
    }
    if (!state.armed) Arm(state_, TcpSocket::wait_read);
  }
  return Watch(state_);
}

CallerMonitor::Watch::~Watch() {
  state_->listening = false;
  state_->signal.slot().clear();
}

net::cancellation_slot CallerMonitor::Watch::Slot() const { return state_->signal.slot(); }

bool CallerMonitor::Watch::CallerGone() const { return state_->gone; }

}  // namespace cms::http
