#include "simulator/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "http/exchange.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "simulator/sim_answer.hpp"
#include "simulator/sim_error.hpp"
#include "simulator/sim_faults.hpp"
#include "simulator/sim_ids.hpp"
#include "simulator/sim_json.hpp"
#include "simulator/sim_prompt_cache.hpp"
#include "simulator/sim_request.hpp"
#include "simulator/sim_wire.hpp"

namespace cms::simulator {

namespace {

using http::bhttp::status;

// The real API's body limit for Messages (docs/anthropic-api.md §1.6).
constexpr std::size_t kMaxRequestBytes = std::size_t{32} * 1024 * 1024;
// How many deltas a mid-stream fault lets through before it strikes.
constexpr std::size_t kDeltasBeforeMidStreamFault = 3;

struct Counters {
  std::atomic<std::uint64_t> messages_requests{0};
  std::atomic<std::uint64_t> stream_requests{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> cancelled_by_client{0};
  std::atomic<std::uint64_t> faults_injected{0};
  std::atomic<std::uint64_t> active{0};

  void Add(std::atomic<std::uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

  [[nodiscard]] SimulatorStats Snapshot() const {
    return SimulatorStats{messages_requests.load(std::memory_order_relaxed),
                          stream_requests.load(std::memory_order_relaxed),
                          completed.load(std::memory_order_relaxed),
                          cancelled_by_client.load(std::memory_order_relaxed),
                          faults_injected.load(std::memory_order_relaxed),
                          active.load(std::memory_order_relaxed)};
  }

  void Reset() {
    for (auto* counter : {&messages_requests, &stream_requests, &completed, &cancelled_by_client,
                          &faults_injected}) {
      counter->store(0, std::memory_order_relaxed);
    }
  }
};

std::string RenderStats(const SimulatorStats& stats) {
  std::string body;
  body.reserve(160);
  const std::pair<std::string_view, std::uint64_t> fields[] = {
      {"messages_requests", stats.messages_requests},
      {"stream_requests", stats.stream_requests},
      {"completed", stats.completed},
      {"cancelled_by_client", stats.cancelled_by_client},
      {"faults_injected", stats.faults_injected},
      {"active", stats.active}};
  body.push_back('{');
  for (const auto& [name, value] : fields) {
    if (body.size() > 1) body.push_back(',');
    AppendJsonString(body, name);
    body.push_back(':');
    AppendInteger(body, static_cast<std::int64_t>(value));
  }
  body.push_back('}');
  return body;
}

// Compares every byte whatever the first difference, as a real gateway would (the length
// may leak; the simulator's key is no secret worth more).
bool KeysMatch(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;
  unsigned difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i]);
  }
  return difference == 0;
}

// How a request to /v1/messages ended, for the counters.
enum class Ending { kCompleted, kCancelledByClient, kDeliberateDisconnect };

// Keeps `active` right whichever way the handler's coroutine ends.
class ActiveRequest {
 public:
  explicit ActiveRequest(Counters& counters) : counters_(counters) {
    counters_.Add(counters_.active);
  }
  ~ActiveRequest() { counters_.active.fetch_sub(1, std::memory_order_relaxed); }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;
  ActiveRequest(ActiveRequest&&) = delete;
  ActiveRequest& operator=(ActiveRequest&&) = delete;

 private:
  Counters& counters_;
};

// Waits until `until`, or less if the client leaves first. False when the client left.
Task<bool> PauseUntil(http::Exchange& exchange, SteadyTimer::time_point until) {
  const http::CallerMonitor::Watch watch = exchange.WatchCaller();
  if (watch.CallerGone()) co_return false;
  SteadyTimer timer{co_await net::this_coro::executor, until};
  co_await timer.async_wait(net::bind_cancellation_slot(watch.Slot(), kAsTuple));
  co_return !watch.CallerGone();
}

// Waits `delay`, or less if the client leaves first. False when the client left.
Task<bool> Pause(http::Exchange& exchange, std::chrono::milliseconds delay) {
  return PauseUntil(exchange, SteadyTimer::clock_type::now() + delay);
}

// POST /v1/messages.
class MessagesHandler final : public http::Handler {
 public:
  MessagesHandler(const SimulatorOptions& options, Counters& counters, PromptCacheTracker& cache,
                  FailureCounter& failures, IdSource& ids)
      : options_(options), counters_(counters), cache_(cache), failures_(failures), ids_(ids) {}

  Task<void> Handle(http::Exchange& exchange) override {
    counters_.Add(counters_.messages_requests);
    const ActiveRequest active{counters_};
    switch (co_await Serve(exchange)) {
      case Ending::kCompleted:
        counters_.Add(counters_.completed);
        break;
      case Ending::kCancelledByClient:
        counters_.Add(counters_.cancelled_by_client);
        break;
      case Ending::kDeliberateDisconnect:
        break;
    }
  }

 private:
  Task<Ending> Serve(http::Exchange& exchange) {
    const std::string request_id = ids_.NextRequestId();
    // The body is read before any refusal so the connection stays usable for the next
    // request, which keeps a client's connection pool warm through 401s and 400s.
    auto body = co_await exchange.ReadBody();
    if (!body) {
      if (body.error() == http::BodyError::kBroken) co_return Ending::kCancelledByClient;
      co_return co_await Refuse(exchange, request_id,
                                {ApiErrorKind::kRequestTooLarge,
                                 std::string(DefaultMessageOf(ApiErrorKind::kRequestTooLarge))});
    }
    if (auto refusal = CheckHeaders(exchange)) {
      co_return co_await Refuse(exchange, request_id, *std::move(refusal));
    }
    auto request = ParseSimRequest(*body);
    if (!request) co_return co_await Refuse(exchange, request_id, request.error());
    if (request->stream) counters_.Add(counters_.stream_requests);

    const FaultPlan faults = PlanFaults(*request);
    if (faults.Any()) counters_.Add(counters_.faults_injected);
    // Counted on arrival, so the first n requests fail whatever their delays.
    const bool fail_again = faults.fail_times && failures_.CountAndCheck(FailTimesKey(*request),
                                                                         faults.fail_times->times);
    if (faults.outcome == FaultOutcome::kHang && !fail_again) {
      co_await PauseUntil(exchange, SteadyTimer::time_point::max());  // Until the client leaves.
      co_return Ending::kCancelledByClient;
    }
    const auto delay = faults.first_byte_delay.value_or(options_.first_byte_delay);
    if (delay.count() > 0 && !co_await Pause(exchange, delay)) {
      co_return Ending::kCancelledByClient;
    }
    if (fail_again) co_return co_await FailAgain(exchange, request_id, *faults.fail_times);
    co_return co_await Answer(exchange, request_id, *request, faults);
  }

  Task<Ending> Answer(http::Exchange& exchange, const std::string& request_id,
                      const SimRequest& request, const FaultPlan& faults) {
    switch (faults.outcome) {
      case FaultOutcome::kError:
        co_return co_await Refuse(exchange, request_id, FaultError(faults.error_kind, request));
      case FaultOutcome::kDisconnect:
        // Returning without an answer makes the server close the connection.
        co_return Ending::kDeliberateDisconnect;
      case FaultOutcome::kDisconnectMidStream:
        if (!request.stream) co_return Ending::kDeliberateDisconnect;
        break;
      case FaultOutcome::kErrorMidStream:
        // What the API sends instead of a mid-stream error when not streaming.
        if (!request.stream) {
          co_return co_await Refuse(exchange, request_id,
                                    FaultError(ApiErrorKind::kOverloaded, request));
        }
        break;
      case FaultOutcome::kMalformed:
        if (!request.stream) {
          co_return co_await Send(exchange, request_id, status::ok,
                                  RenderMalformedMessage(ids_.NextMessageId(), request.model));
        }
        break;
      case FaultOutcome::kNone:
      case FaultOutcome::kHang:
        break;
    }
    if (faults.bulk_bytes && faults.outcome != FaultOutcome::kMalformed) {
      const PromptCacheUse cache_use = TouchPromptCache(request, cache_);
      if (request.stream) {
        co_return co_await StreamBulk(exchange, request_id, request, cache_use, *faults.bulk_bytes,
                                      faults);
      }
      co_return co_await Send(
          exchange, request_id, status::ok,
          RenderMessage(ComposeBulkAnswer(request, cache_use, *faults.bulk_bytes),
                        ids_.NextMessageId(), request.model));
    }
    const SimAnswer answer = ComposeAnswer(request, TouchPromptCache(request, cache_));
    if (!request.stream) {
      co_return co_await Send(exchange, request_id, status::ok,
                              RenderMessage(answer, ids_.NextMessageId(), request.model));
    }
    co_return co_await Stream(exchange, request_id, request, answer, faults);
  }

  Task<Ending> Stream(http::Exchange& exchange, const std::string& request_id,
                      const SimRequest& request, const SimAnswer& answer, const FaultPlan& faults) {
    // Built before the co_await: g++ 12 miscompiles a braced list of string literals
    // in a coroutine's co_await expression ("array used as initializer").
    http::HeaderList headers;
    headers.emplace_back("request-id", request_id);
    if (!co_await exchange.BeginEventStream(std::move(headers))) {
      co_return Ending::kCancelledByClient;
    }
    std::string pending = RenderStreamOpening(answer, ids_.NextMessageId(), request.model);
    if (faults.outcome == FaultOutcome::kMalformed) {
      pending.append(MalformedEvent());
      co_return co_await Flush(exchange, pending) && co_await exchange.EndEventStream()
          ? Ending::kCompleted
          : Ending::kCancelledByClient;
    }
    const bool cut_short = faults.outcome == FaultOutcome::kDisconnectMidStream ||
                           faults.outcome == FaultOutcome::kErrorMidStream;
    const std::vector<std::string_view> deltas = SplitIntoDeltas(answer, options_.words_per_delta);
    const std::size_t delta_count =
        cut_short ? std::min(deltas.size(), kDeltasBeforeMidStreamFault) : deltas.size();
    const auto chunk_delay = faults.chunk_delay.value_or(options_.chunk_delay);
    for (std::size_t i = 0; i < delta_count; ++i) {
      // Without a delay every event leaves in one write; with one, each delta leaves as
      // it is produced.
      if (i > 0 && chunk_delay.count() > 0) {
        if (!co_await Flush(exchange, pending)) co_return Ending::kCancelledByClient;
        if (!co_await Pause(exchange, chunk_delay)) {
          exchange.AbortEventStream();
          co_return Ending::kCancelledByClient;
        }
      }
      AppendTextDeltaEvent(pending, deltas[i]);
    }
    co_return co_await FinishStream(exchange, request, answer, faults, std::move(pending));
  }

  // `[[simulate:bulk:<bytes>]]`: every delta is written and flushed on its own, so a client
  // that does not read stalls this loop in its write (until the server's write timeout
  // counts the client gone), and a client that leaves fails the next write. The text is
  // produced delta by delta and never held whole.
  Task<Ending> StreamBulk(http::Exchange& exchange, const std::string& request_id,
                          const SimRequest& request, PromptCacheUse cache_use, std::uint64_t bytes,
                          const FaultPlan& faults) {
    http::HeaderList headers;
    headers.emplace_back("request-id", request_id);
    if (!co_await exchange.BeginEventStream(std::move(headers))) {
      co_return Ending::kCancelledByClient;
    }
    // Text-less: the opening needs the input usage only, the closing the final counts.
    SimAnswer summary;
    summary.usage = BulkUsage(request, cache_use, 0);
    std::string pending = RenderStreamOpening(summary, ids_.NextMessageId(), request.model);
    const bool cut_short = faults.outcome == FaultOutcome::kDisconnectMidStream ||
                           faults.outcome == FaultOutcome::kErrorMidStream;
    const auto chunk_delay = faults.chunk_delay.value_or(options_.chunk_delay);
    BulkText text{RequestHash(request), bytes};
    for (std::size_t i = 0; !text.Done() && !(cut_short && i == kDeltasBeforeMidStreamFault); ++i) {
      if (i > 0 && chunk_delay.count() > 0 && !co_await Pause(exchange, chunk_delay)) {
        exchange.AbortEventStream();
        co_return Ending::kCancelledByClient;
      }
      AppendTextDeltaEvent(pending, text.Next());
      if (!co_await Flush(exchange, pending)) co_return Ending::kCancelledByClient;
    }
    summary.usage = BulkUsage(request, cache_use, text.Words());
    co_return co_await FinishStream(exchange, request, summary, faults, std::move(pending));
  }

  // Sends what follows the deltas (the closing events, or the mid-stream fault) after
  // `pending`, and ends the stream.
  Task<Ending> FinishStream(http::Exchange& exchange, const SimRequest& request,
                            const SimAnswer& answer, const FaultPlan& faults, std::string pending) {
    if (faults.outcome == FaultOutcome::kDisconnectMidStream) {
      if (!co_await Flush(exchange, pending)) co_return Ending::kCancelledByClient;
      exchange.AbortEventStream();
      co_return Ending::kDeliberateDisconnect;
    }
    if (faults.outcome == FaultOutcome::kErrorMidStream) {
      pending.append(RenderErrorEvent(FaultError(ApiErrorKind::kOverloaded, request)));
    } else {
      pending.append(RenderStreamClosing(answer));
    }
    if (!co_await Flush(exchange, pending)) co_return Ending::kCancelledByClient;
    const bool ended = co_await exchange.EndEventStream();
    co_return ended ? Ending::kCompleted : Ending::kCancelledByClient;
  }

  // Writes and empties `pending`. False when the client is gone.
  static Task<bool> Flush(http::Exchange& exchange, std::string& pending) {
    const bool written = co_await exchange.WriteEvents(pending);
    pending.clear();
    co_return written;
  }

  [[nodiscard]] std::optional<ApiError> CheckHeaders(const http::Exchange& exchange) const {
    const std::string_view key = exchange.Header("x-api-key");
    if (key.empty()) return ApiError{ApiErrorKind::kAuthentication, "x-api-key header is required"};
    if (!options_.api_key.empty() && !KeysMatch(key, options_.api_key)) {
      return ApiError{ApiErrorKind::kAuthentication, "invalid x-api-key"};
    }
    if (exchange.Header("anthropic-version").empty()) {
      return ApiError{ApiErrorKind::kInvalidRequest, "anthropic-version: header is required"};
    }
    return std::nullopt;
  }

  static ApiError FaultError(ApiErrorKind kind, const SimRequest& request) {
    if (kind == ApiErrorKind::kNotFound) {
      // The real API's answer to an unknown model.
      return ApiError{kind, "model: " + request.model};
    }
    return ApiError{kind, std::string(DefaultMessageOf(kind))};
  }

  Task<Ending> Refuse(http::Exchange& exchange, const std::string& request_id,
                      const ApiError& error) {
    http::HeaderList headers;
    headers.emplace_back("request-id", request_id);
    if (error.kind == ApiErrorKind::kRateLimit) headers.emplace_back("retry-after", "1");
    const bool sent =
        co_await exchange.Respond(static_cast<status>(StatusOf(error.kind)),
                                  RenderErrorBody(error, request_id), std::move(headers));
    co_return sent ? Ending::kCompleted : Ending::kCancelledByClient;
  }

  // One of the first n failures of `[[simulate:fail-times:<n>:<failure>]]`.
  static Task<Ending> FailAgain(http::Exchange& exchange, const std::string& request_id,
                                RepeatedFailure failure) {
    // Returning without an answer makes the server close the connection.
    if (failure.IsReset()) co_return Ending::kDeliberateDisconnect;
    http::HeaderList headers;
    headers.emplace_back("request-id", request_id);
    // 0 rather than the usual 1: fail-times exists to drive retries, which need not wait.
    if (failure.status == 429) headers.emplace_back("retry-after", "0");
    const bool sent = co_await exchange.Respond(
        static_cast<status>(failure.status), RenderRepeatedFailureBody(failure.status, request_id),
        std::move(headers));
    co_return sent ? Ending::kCompleted : Ending::kCancelledByClient;
  }

  static Task<Ending> Send(http::Exchange& exchange, const std::string& request_id, status code,
                           std::string body) {
    http::HeaderList headers;
    headers.emplace_back("request-id", request_id);
    const bool sent = co_await exchange.Respond(code, std::move(body), std::move(headers));
    co_return sent ? Ending::kCompleted : Ending::kCancelledByClient;
  }

  // Constant after construction; the referents are owned by Simulator::Impl.
  const SimulatorOptions& options_;
  Counters& counters_;
  PromptCacheTracker& cache_;
  FailureCounter& failures_;
  IdSource& ids_;
};

// GET /_simulator/stats.
class StatsHandler final : public http::Handler {
 public:
  explicit StatsHandler(const Counters& counters) : counters_(counters) {}

  Task<void> Handle(http::Exchange& exchange) override {
    co_await exchange.Respond(status::ok, RenderStats(counters_.Snapshot()));
  }

 private:
  const Counters& counters_;
};

// POST /_simulator/reset.
class ResetHandler final : public http::Handler {
 public:
  ResetHandler(Counters& counters, PromptCacheTracker& cache, FailureCounter& failures)
      : counters_(counters), cache_(cache), failures_(failures) {}

  Task<void> Handle(http::Exchange& exchange) override {
    counters_.Reset();
    cache_.Clear();
    failures_.Clear();
    co_await exchange.Respond(status::ok, RenderStats(counters_.Snapshot()));
  }

 private:
  Counters& counters_;
  PromptCacheTracker& cache_;
  FailureCounter& failures_;
};

http::ServerOptions MakeServerOptions(const SimulatorOptions& options) {
  http::ServerOptions server;
  server.host = options.host;
  server.port = options.port;
  server.max_request_bytes = kMaxRequestBytes;
  server.log_requests = false;  // A load-test baseline writes no per-request lines.
  return server;
}

}  // namespace

struct Simulator::Impl {
  Impl(SimulatorOptions options_in, core::WorkerPool& workers, observability::Logger& logger_in)
      : options(std::move(options_in)),
        logger(logger_in),
        messages(options, counters, cache, failures, ids),
        stats(counters),
        reset(counters, cache, failures),
        server(workers, router, MakeServerOptions(options), logger) {
    router.Add(http::bhttp::verb::post, "/v1/messages", messages);
    router.Add(http::bhttp::verb::get, "/_simulator/stats", stats);
    router.Add(http::bhttp::verb::post, "/_simulator/reset", reset);
  }

  // Declared in dependency order: the server goes first, then what its handlers use.
  const SimulatorOptions options;
  observability::Logger& logger;
  Counters counters;
  PromptCacheTracker cache;
  FailureCounter failures;
  IdSource ids;
  MessagesHandler messages;
  StatsHandler stats;
  ResetHandler reset;
  http::Router router;
  http::Server server;
};

Simulator::Simulator(SimulatorOptions options, core::WorkerPool& workers,
                     observability::Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), workers, logger)) {}

Simulator::~Simulator() = default;

void Simulator::Start() {
  try {
    impl_->server.Listen();
  } catch (const boost::system::system_error& e) {
    throw std::system_error(static_cast<std::error_code>(e.code()),
                            "simulator cannot listen on " + impl_->options.host + ":" +
                                std::to_string(impl_->options.port));
  }
  impl_->server.Start();
  impl_->logger.Info("simulator_startup", "",
                     {{"port", Port()}, {"api_key_required", !impl_->options.api_key.empty()}});
}

std::uint16_t Simulator::Port() const { return impl_->server.Port(); }

std::string Simulator::BaseUrl() const {
  const std::string& host = impl_->options.host;
  std::string authority;
  if (host.empty() || host == "0.0.0.0") {
    authority = "127.0.0.1";
  } else if (host == "::") {
    authority = "[::1]";
  } else if (host.find(':') != std::string::npos) {
    authority = "[" + host + "]";
  } else {
    authority = host;
  }
  return "http://" + authority + ":" + std::to_string(Port());
}

bool Simulator::Drain(std::chrono::milliseconds grace) { return impl_->server.Drain(grace); }

SimulatorStats Simulator::Stats() const { return impl_->counters.Snapshot(); }

}  // namespace cms::simulator
