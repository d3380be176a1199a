#include "handlers/stream_relay.hpp"

#include <memory>
#include <variant>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/error_response.hpp"
#include "api/stream_events.hpp"

namespace cms::handlers {

namespace {

using boost::asio::experimental::awaitable_operators::operator||;
using Clock = std::chrono::steady_clock;

// What the pump hands to the forwarder in one step: the SSE frames of the text deltas the
// upstream had ready (a burst, up to RelayOptions::buffer_events of them), then possibly how
// the stream ended. One item per burst, not per event: a channel hand-over costs a
// scheduler round trip, which was a large part of a delta's cost.
struct RelayItem {
  std::string frames;                              // TextEvent frames, in order.
  std::size_t chunks = 0;                          // How many.
  std::unique_ptr<core::Completion> completion;    // The answer is complete.
  std::unique_ptr<upstream::UpstreamError> error;  // The stream broke.

  [[nodiscard]] bool Last() const { return completion || error; }
};
using RelayChannel =
    boost::asio::experimental::basic_channel<Executor, boost::asio::experimental::channel_traits<>,
                                             void(boost::system::error_code, RelayItem)>;

// Writes in one syscall what a burst of upstream events produced, but never holds back an
// event waiting for more.
constexpr std::size_t kMaxBatchBytes = std::size_t{16} * 1024;

Task<void> WaitForever() {
  SteadyTimer forever{co_await net::this_coro::executor, Clock::time_point::max()};
  co_await forever.async_wait(kAsTuple);
}

// Pulls the next event and every one after it the upstream already delivered, up to
// `max_events`, into one item.
Task<RelayItem> PullBurst(upstream::CompletionStream& stream, std::size_t max_events) {
  RelayItem item;
  upstream::UpstreamResult<upstream::StreamEvent> next = co_await stream.Next();
  for (std::size_t events = 0;;) {
    if (!next) {
      item.error = std::make_unique<upstream::UpstreamError>(next.error());
      break;
    }
    if (next->kind == upstream::StreamEvent::Kind::kEnd) {
      if (next->completion) {
        item.completion = std::move(next->completion);
      } else {  // A provider broke its contract; the caller must not be told it is whole.
        item.error = std::make_unique<upstream::UpstreamError>(upstream::MakeUpstreamError(
            upstream::UpstreamErrorKind::kInternal, "stream ended without its completion"));
      }
      break;
    }
    if (!next->text.empty()) {
      api::AppendTextEvent(item.frames, next->text);
      ++item.chunks;
      ++events;
    }
    if (events >= max_events || item.frames.size() >= kMaxBatchBytes) break;
    if (auto ready = stream.TryNextReady()) {
      next = std::move(*ready);
    } else if (stream.HasReadyEvent()) {
      next = co_await stream.Next();
    } else {
      break;
    }
  }
  co_return item;
}

Task<void> PumpUpstream(upstream::CompletionStream& stream, RelayChannel& channel,
                        std::size_t max_events) {
  for (;;) {
    RelayItem item = co_await PullBurst(stream, max_events);
    const bool last = item.Last();
    auto [ec] = co_await channel.async_send(boost::system::error_code{}, std::move(item), kAsTuple);
    if (ec || last) break;
  }
  // Hand the decision to end the relay to the forwarder: it still has events to write.
  // Unless it already made it, taking the last item while the send above completed: this
  // branch is then cancelled, and a co_await begun now would throw (a fifth of streams).
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  if (state.cancelled() == net::cancellation_type::none) co_await WaitForever();
}

// The caller-facing text for a failure after the stream began.
std::string_view ErrorEventMessage(const upstream::UpstreamError& error) {
  return error.kind == upstream::UpstreamErrorKind::kTimeout ? "Upstream AI timeout."
                                                             : "Upstream AI error.";
}

class Forwarder {
 public:
  Forwarder(RelayChannel& channel, http::Exchange& exchange, std::chrono::seconds heartbeat)
      : channel_(channel), exchange_(exchange), heartbeat_(heartbeat) {}

  // What was delivered so far; complete once Run() has returned.
  RelayReport TakeReport() { return std::move(report_); }
  // True when Run() ended because the caller left (or the drain ended the stream) while
  // it waited for the upstream: nothing more can be written.
  [[nodiscard]] bool CallerLeft() const { return caller_left_; }

  Task<void> Run() {
    SteadyTimer heartbeat_timer{co_await net::this_coro::executor};
    while (!finished_) {
      // Whatever is already waiting leaves in one write, without arming the heartbeat timer
      // or racing anything: a burst of upstream events costs one wait, not one per event.
      TakeWaiting();
      if (batch_.empty() && exchange_.EventStreamHeadPending() &&
          !co_await SendHeadUnlessEventsAreReady()) {
        report_.outcome = StreamOutcome::kClientDisconnected;
        co_return;
      }
      if (batch_.empty()) {
        heartbeat_timer.expires_after(heartbeat_);
        if (!co_await WaitForWork(heartbeat_timer)) {
          caller_left_ = true;
          report_.outcome = StreamOutcome::kClientDisconnected;
          co_return;
        }
        if (batch_.empty()) continue;
        TakeWaiting();
      }
      co_await GatherBurst();
      // The last burst of a whole answer leaves with the end of the stream, below.
      if (finished_ && report_.outcome == StreamOutcome::kCompleted) break;
      if (!co_await exchange_.WriteEvents(batch_)) {
        report_.outcome = StreamOutcome::kClientDisconnected;
        co_return;
      }
      batch_.clear();
    }
    if (report_.outcome == StreamOutcome::kCompleted) {
      if (!co_await exchange_.EndEventStream(batch_)) {
        report_.outcome = StreamOutcome::kClientDisconnected;
      }
    } else {
      exchange_.AbortEventStream();
    }
  }

 private:
  // The head was held back to leave with the first events (HeadTiming::kWithFirstEvents).
  // The pump gets one turn: when the upstream's head read brought events, as it usually
  // does, they are in the channel after it and the loop writes them with the head. If none
  // are, the head goes now, alone, before any wait: the caller is never kept without it.
  // False when the caller is gone.
  Task<bool> SendHeadUnlessEventsAreReady() {
    const auto executor = co_await net::this_coro::executor;
    co_await net::post(executor, kAsTuple);
    TakeWaiting();
    if (!batch_.empty()) co_return true;
    co_return co_await exchange_.FlushEventStreamHead();
  }

  // While the pump keeps delivering events already read from the upstream (a burst, one TCP
  // read holds dozens), yield to it and take them too: one write per burst instead of one
  // write, and one wakeup of the caller, per event. Events spaced in time cost one yield.
  Task<void> GatherBurst() {
    const auto executor = co_await net::this_coro::executor;
    for (std::size_t before = 0;
         !finished_ && batch_.size() < kMaxBatchBytes && batch_.size() != before;) {
      before = batch_.size();
      co_await net::post(executor, kAsTuple);
      TakeWaiting();
    }
  }

  // Waits for whichever comes first: the pump's next item, the heartbeat, or the caller's
  // departure. One parallel group of plain operations, not coroutines: a waiting stream
  // holds no frame per branch, and the losers complete with operation_aborted as values (an
  // exception per wait, through libgcc's unwinder and its process-wide lock, was once most
  // of a stream's CPU). The caller's watch cancels the group when it leaves; its readiness
  // wait stays armed across the writes in between, so a stream re-arms it only after the
  // caller sent something (http/caller_monitor.hpp). False when the caller is gone.
  Task<bool> WaitForWork(SteadyTimer& heartbeat_timer) {
    const http::CallerMonitor::Watch watch = exchange_.WatchCaller();
    if (watch.CallerGone()) co_return false;
    auto [order, receive_error, item, timer_error] =
        co_await net::experimental::make_parallel_group(channel_.async_receive(net::deferred),
                                                        heartbeat_timer.async_wait(net::deferred))
            .async_wait(net::experimental::wait_for_one(),
                        net::bind_cancellation_slot(watch.Slot(), kUseTask));
    // An item that came before the caller left is still taken; the next wait sees it gone.
    if (order[0] == 0 && (!receive_error || !watch.CallerGone())) {
      AbsorbReceived(receive_error, std::move(item));
      co_return true;
    }
    if (watch.CallerGone()) co_return false;  // Or the drain ended the stream.
    batch_ = api::HeartbeatComment();
    co_return true;
  }

  void AbsorbReceived(const boost::system::error_code& error, RelayItem item) {
    if (error) {
      // The channel cannot fail while the pump lives; treat it as a cut upstream.
      item = RelayItem{};
      item.error = std::make_unique<upstream::UpstreamError>(upstream::MakeUpstreamError(
          upstream::UpstreamErrorKind::kInternal, "relay channel: " + error.message()));
    }
    Absorb(std::move(item));
  }

  void TakeWaiting() {
    while (!finished_ && batch_.size() < kMaxBatchBytes &&
           channel_.try_receive(
               [this](boost::system::error_code, RelayItem item) { Absorb(std::move(item)); })) {
    }
  }

  void Absorb(RelayItem item) {
    batch_ += item.frames;
    report_.chunks += item.chunks;
    if (item.error) {
      batch_ += api::ErrorEvent(ErrorEventMessage(*item.error));
      report_.outcome = StreamOutcome::kUpstreamError;
      report_.error = std::move(*item.error);
      finished_ = true;
    } else if (item.completion) {
      batch_ += api::DoneEvent();
      report_.outcome = StreamOutcome::kCompleted;
      report_.completion = std::move(*item.completion);
      finished_ = true;
    }
  }

  RelayChannel& channel_;
  http::Exchange& exchange_;
  const std::chrono::seconds heartbeat_;
  RelayReport report_;
  std::string batch_;
  bool finished_ = false;
  bool caller_left_ = false;
};

}  // namespace

const char* StreamOutcomeName(StreamOutcome outcome) {
  switch (outcome) {
    case StreamOutcome::kCompleted:
      return "completed";
    case StreamOutcome::kClientDisconnected:
      return "client_disconnected";
    case StreamOutcome::kUpstreamError:
      return "upstream_error";
    case StreamOutcome::kServerShutdown:
      return "server_shutdown";
  }
  return "upstream_error";
}

Task<RelayReport> RelayStream(upstream::CompletionStream& upstream, http::Exchange& exchange,
                              RelayOptions options) {
  // One burst waits in the channel while the next is pulled: at most about two bursts of
  // buffer_events each are held for a caller that stops reading.
  RelayChannel channel{co_await net::this_coro::executor, 1};
  Forwarder forwarder{channel, exchange, options.heartbeat};
  co_await (forwarder.Run() || PumpUpstream(upstream, channel, options.buffer_events));
  RelayReport report = forwarder.TakeReport();
  if (!forwarder.CallerLeft()) co_return report;
  report.completion.reset();
  if (exchange.ServerTerminating()) {
    // The drain's grace is over: the caller learns its stream was cut, never silently.
    report.outcome = StreamOutcome::kServerShutdown;
    co_await exchange.WriteEvents(api::ErrorEvent(api::kShuttingDownDetail));
    exchange.AbortEventStream();
    co_return report;
  }
  // The caller left: nothing more can be delivered, and the pump's upstream read is already
  // cancelled.
  report.outcome = StreamOutcome::kClientDisconnected;
  co_return report;
}

Task<RelayReport> ReplayStream(const core::Completion& completion, http::Exchange& exchange,
                               std::size_t chunk_bytes) {
  RelayReport report;
  std::string batch;
  for (const std::string_view chunk : api::SplitForReplay(completion.content, chunk_bytes)) {
    batch += api::TextEvent(chunk);
    ++report.chunks;
    if (batch.size() >= kMaxBatchBytes) {
      if (!co_await exchange.WriteEvents(batch)) co_return report;
      batch.clear();
    }
  }
  batch += api::DoneEvent();
  if (!co_await exchange.EndEventStream(batch)) co_return report;
  report.outcome = StreamOutcome::kCompleted;
  report.completion = completion;
  co_return report;
}

}  // namespace cms::handlers
