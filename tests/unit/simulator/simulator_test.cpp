// End-to-end: a Simulator on a WorkerPool on port 0, driven over loopback by a small Beast
// client. Every client operation has a deadline, so a broken server fails the test instead
// of hanging it. Waits poll the stats for a condition (bounded); nothing asserts timing.
#include "simulator/simulator.hpp"

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "core/net.hpp"
#include "core/worker_pool.hpp"
#include "observability/memory_logger.hpp"
#include "simulator/sim_answer.hpp"

namespace cms::simulator {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr auto kClientDeadline = 10s;

// Runs one client coroutine on its own io_context and returns its result.
template <class T>
T RunClient(Task<T> task) {
  net::io_context io;
  auto result = net::co_spawn(io, std::move(task), net::use_future);
  io.run();
  return result.get();
}

Task<TcpStream> Connect(std::uint16_t port) {
  TcpStream stream{co_await net::this_coro::executor};
  stream.expires_after(kClientDeadline);
  co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), kUseTask);
  co_return stream;
}

// One request on a fresh connection. A connection closed without an answer comes back as
// status 0 with the read error's message in the body.
Task<Response> RoundTrip(std::uint16_t port, Request request) {
  TcpStream stream = co_await Connect(port);
  request.prepare_payload();
  stream.expires_after(kClientDeadline);
  co_await bhttp::async_write(stream, request, kUseTask);
  beast::flat_buffer buffer;
  Response response;
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, response, kAsTuple);
  if (ec) {
    Response failed;
    failed.result(0);
    failed.body() = ec.message();
    co_return failed;
  }
  co_return response;
}

// Sends `request`, reads until `until` appears in the body, then closes the connection.
Task<std::string> ReadThenLeave(std::uint16_t port, Request request, std::string until) {
  TcpStream stream = co_await Connect(port);
  request.prepare_payload();
  stream.expires_after(kClientDeadline);
  co_await bhttp::async_write(stream, request, kUseTask);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  co_await bhttp::async_read_header(stream, buffer, parser, kUseTask);
  while (parser.get().body().find(until) == std::string::npos && !parser.is_done()) {
    co_await bhttp::async_read_some(stream, buffer, parser, kUseTask);
  }
  stream.socket().close();
  co_return parser.get().body();
}

Request MessagesRequest(const std::string& body, std::string_view api_key = "test-key",
                        bool with_version = true) {
  Request request{bhttp::verb::post, "/v1/messages", 11};
  request.set(bhttp::field::host, "127.0.0.1");
  request.set(bhttp::field::content_type, "application/json");
  if (!api_key.empty()) request.set("x-api-key", api_key);
  if (with_version) request.set("anthropic-version", "2023-06-01");
  request.body() = body;
  return request;
}

std::string Body(std::string_view user_text, bool stream = false, int max_tokens = 256) {
  json::object body{
      {"model", "claude-sonnet-4-6"},
      {"max_tokens", max_tokens},
      {"messages", json::array{json::object{{"role", "user"}, {"content", user_text}}}}};
  if (stream) body["stream"] = true;
  return json::serialize(body);
}

struct SseEvent {
  std::string name;
  json::value data;
};

std::vector<SseEvent> ParseEvents(std::string_view stream) {
  std::vector<SseEvent> events;
  for (std::size_t end; (end = stream.find("\n\n")) != std::string_view::npos;) {
    const std::string_view block = stream.substr(0, end);
    stream.remove_prefix(end + 2);
    const std::size_t newline = block.find('\n');
    EXPECT_TRUE(block.starts_with("event: ")) << block;
    SseEvent event;
    event.name = std::string(block.substr(7, newline - 7));
    event.data = json::parse(block.substr(newline + 7));  // After "\ndata: ".
    events.push_back(std::move(event));
  }
  EXPECT_TRUE(stream.empty()) << "trailing bytes: " << stream;
  return events;
}

// Default options with one change (designated initializers would warn about the rest).
SimulatorOptions Options(const std::function<void(SimulatorOptions&)>& change) {
  SimulatorOptions options;
  change(options);
  return options;
}

class SimulatorEndToEndTest : public ::testing::Test {
 protected:
  void StartSimulator(SimulatorOptions options = {}) {
    options.port = 0;
    simulator_ = std::make_unique<Simulator>(std::move(options), pool_, logger_);
    pool_.Start();
    simulator_->Start();
  }

  void TearDown() override {
    if (simulator_) {
      EXPECT_TRUE(simulator_->Drain(5s));
    }
    pool_.Stop();
  }

  std::uint16_t Port() const { return simulator_->Port(); }

  // Polls the stats until `condition` holds (at most about 5 s); returns the last snapshot.
  SimulatorStats WaitForStats(const std::function<bool(const SimulatorStats&)>& condition) {
    SimulatorStats stats = simulator_->Stats();
    for (int i = 0; i < 500 && !condition(stats); ++i) {
      std::this_thread::sleep_for(10ms);
      stats = simulator_->Stats();
    }
    return stats;
  }

  core::WorkerPool pool_{2};
  observability::MemoryLogger logger_;
  std::unique_ptr<Simulator> simulator_;
};

TEST_F(SimulatorEndToEndTest, LogsStartupAndReportsItsBaseUrl) {
  StartSimulator(Options([](SimulatorOptions& o) { o.api_key = "secret"; }));
  const auto lines = logger_.LinesWithEvent("simulator_startup");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("port").to_number<std::int64_t>(), Port());
  EXPECT_EQ(lines[0].at("api_key_required").as_bool(), true);
  EXPECT_NE(Port(), 0);
  EXPECT_EQ(simulator_->BaseUrl(), "http://127.0.0.1:" + std::to_string(Port()));
}

TEST_F(SimulatorEndToEndTest, StartThrowsSystemErrorWhenThePortIsTaken) {
  StartSimulator();
  SimulatorOptions options;
  options.port = Port();
  Simulator second{options, pool_, logger_};
  EXPECT_THROW(second.Start(), std::system_error);
}

TEST_F(SimulatorEndToEndTest, AnswersACompletionDeterministically) {
  StartSimulator();
  const Response first = RunClient(RoundTrip(Port(), MessagesRequest(Body("Hello there"))));
  ASSERT_EQ(first.result_int(), 200) << first.body();
  EXPECT_EQ(first[bhttp::field::content_type], "application/json");
  EXPECT_TRUE(first["request-id"].starts_with("req_sim_"));
  const json::value message = json::parse(first.body());
  EXPECT_TRUE(message.at("id").as_string().starts_with("msg_sim_"));
  EXPECT_EQ(message.at("type").as_string(), "message");
  EXPECT_EQ(message.at("role").as_string(), "assistant");
  EXPECT_EQ(message.at("model").as_string(), "claude-sonnet-4-6");
  EXPECT_EQ(message.at("stop_reason").as_string(), "end_turn");
  EXPECT_TRUE(message.at("stop_sequence").is_null());
  const std::string text{message.at("content").at(0).at("text").as_string()};
  EXPECT_TRUE(text.starts_with("Simulated answer to a message of 11 characters")) << text;
  EXPECT_EQ(message.at("usage").at("input_tokens").as_int64(), 3);  // ceil(11 / 4)

  const Response second = RunClient(RoundTrip(Port(), MessagesRequest(Body("Hello there"))));
  EXPECT_EQ(json::parse(second.body()).at("content").at(0).at("text").as_string(), text);
  EXPECT_NE(second["request-id"], first["request-id"]);
}

TEST_F(SimulatorEndToEndTest, RefusesMissingOrWrongKeysAndMissingVersion) {
  StartSimulator(Options([](SimulatorOptions& o) { o.api_key = "right-key"; }));
  struct Case {
    Request request;
    unsigned status;
    const char* type;
    const char* message;
  };
  const Case cases[] = {
      {MessagesRequest(Body("hi"), ""), 401, "authentication_error",
       "x-api-key header is required"},
      {MessagesRequest(Body("hi"), "wrong-key"), 401, "authentication_error", "invalid x-api-key"},
      {MessagesRequest(Body("hi"), "right-key", false), 400, "invalid_request_error",
       "anthropic-version: header is required"},
      {MessagesRequest(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", "right-key"),
       400, "invalid_request_error", "max_tokens: Field required"},
  };
  for (const Case& c : cases) {
    const Response response = RunClient(RoundTrip(Port(), c.request));
    EXPECT_EQ(response.result_int(), c.status) << response.body();
    const json::value body = json::parse(response.body());
    EXPECT_EQ(body.at("type").as_string(), "error");
    EXPECT_EQ(body.at("error").at("type").as_string(), c.type);
    EXPECT_EQ(body.at("error").at("message").as_string(), c.message);
    EXPECT_EQ(body.at("request_id").as_string(), response["request-id"]);
  }
  EXPECT_EQ(RunClient(RoundTrip(Port(), MessagesRequest(Body("hi"), "right-key"))).result_int(),
            200);
}

TEST_F(SimulatorEndToEndTest, StreamsTheFullEventSequence) {
  StartSimulator(Options([](SimulatorOptions& o) { o.words_per_delta = 4; }));
  const Response plain = RunClient(RoundTrip(Port(), MessagesRequest(Body("Stream this", false))));
  const Response streamed =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("Stream this", true))));
  ASSERT_EQ(streamed.result_int(), 200);
  EXPECT_EQ(streamed[bhttp::field::content_type], "text/event-stream");
  EXPECT_TRUE(streamed["request-id"].starts_with("req_sim_"));
  const std::vector<SseEvent> events = ParseEvents(streamed.body());
  ASSERT_GE(events.size(), 7u);
  EXPECT_EQ(events[0].name, "message_start");
  EXPECT_EQ(events[1].name, "content_block_start");
  EXPECT_EQ(events[2].name, "ping");
  EXPECT_EQ(events[events.size() - 3].name, "content_block_stop");
  EXPECT_EQ(events[events.size() - 2].name, "message_delta");
  EXPECT_EQ(events[events.size() - 1].name, "message_stop");
  std::string text;
  std::size_t deltas = 0;
  for (std::size_t i = 3; i + 3 < events.size(); ++i) {
    EXPECT_EQ(events[i].name, "content_block_delta");
    EXPECT_EQ(events[i].data.at("index").as_int64(), 0);
    text += events[i].data.at("delta").at("text").as_string();
    ++deltas;
  }
  const json::value message = json::parse(plain.body());
  EXPECT_EQ(text, message.at("content").at(0).at("text").as_string());
  const std::int64_t output_tokens = message.at("usage").at("output_tokens").as_int64();
  EXPECT_EQ(deltas, static_cast<std::size_t>((output_tokens + 3) / 4));
  const json::value& final_delta = events[events.size() - 2].data;
  EXPECT_EQ(final_delta.at("delta").at("stop_reason").as_string(), "end_turn");
  EXPECT_EQ(final_delta.at("usage").at("output_tokens").as_int64(), output_tokens);
  EXPECT_EQ(events[0].data.at("message").at("usage").at("output_tokens").as_int64(), 1);
}

TEST_F(SimulatorEndToEndTest, RateLimitFaultCarriesRetryAfter) {
  StartSimulator();
  const Response response =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("please [[simulate:429]]", true))));
  EXPECT_EQ(response.result_int(), 429);
  EXPECT_EQ(response["retry-after"], "1");
  const json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("error").at("type").as_string(), "rate_limit_error");
}

TEST_F(SimulatorEndToEndTest, OverloadedFaultAnswers529AndNotFoundNamesTheModel) {
  StartSimulator();
  const Response overloaded =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:529]]"))));
  EXPECT_EQ(overloaded.result_int(), 529);
  EXPECT_EQ(json::parse(overloaded.body()).at("error").at("type").as_string(), "overloaded_error");
  const Response not_found =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:404]]"))));
  EXPECT_EQ(not_found.result_int(), 404);
  EXPECT_EQ(json::parse(not_found.body()).at("error").at("message").as_string(),
            "model: claude-sonnet-4-6");
}

TEST_F(SimulatorEndToEndTest, MalformedFaultSendsInvalidJson) {
  StartSimulator();
  const Response response =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:malformed]]"))));
  EXPECT_EQ(response.result_int(), 200);
  boost::system::error_code ec;
  static_cast<void>(json::parse(response.body(), ec));
  EXPECT_TRUE(ec) << response.body();
}

TEST_F(SimulatorEndToEndTest, DisconnectFaultClosesWithoutAnswer) {
  StartSimulator();
  const Response response =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:disconnect]]"))));
  EXPECT_EQ(response.result_int(), 0) << "expected no answer, got a response";
}

TEST_F(SimulatorEndToEndTest, ErrorMidStreamEndsWithErrorEventAndNoMessageStop) {
  StartSimulator();
  const Response response =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:error-mid-stream]]", true))));
  ASSERT_EQ(response.result_int(), 200);
  const std::vector<SseEvent> events = ParseEvents(response.body());
  ASSERT_EQ(events.size(), 7u);  // start, block start, ping, 3 deltas, error.
  EXPECT_EQ(events[5].name, "content_block_delta");
  EXPECT_EQ(events[6].name, "error");
  EXPECT_EQ(events[6].data.at("error").at("type").as_string(), "overloaded_error");
}

TEST_F(SimulatorEndToEndTest, DisconnectMidStreamCutsTheStream) {
  StartSimulator();
  const Response response = RunClient(
      RoundTrip(Port(), MessagesRequest(Body("[[simulate:disconnect-mid-stream]]", true))));
  // The cut arrives as a read error: the chunked body never ends.
  EXPECT_EQ(response.result_int(), 0);
  const SimulatorStats stats = WaitForStats([](const auto& s) { return s.active == 0; });
  EXPECT_EQ(stats.completed, 0u);
  EXPECT_EQ(stats.cancelled_by_client, 0u);
  EXPECT_EQ(stats.faults_injected, 1u);
}

TEST_F(SimulatorEndToEndTest, CountsRequestsAndResets) {
  StartSimulator();
  RunClient(RoundTrip(Port(), MessagesRequest(Body("one"))));
  RunClient(RoundTrip(Port(), MessagesRequest(Body("two", true))));
  RunClient(RoundTrip(Port(), MessagesRequest(Body("three [[simulate:429]]"))));
  SimulatorStats stats = WaitForStats([](const auto& s) { return s.completed == 3; });
  EXPECT_EQ(stats.messages_requests, 3u);
  EXPECT_EQ(stats.stream_requests, 1u);
  EXPECT_EQ(stats.completed, 3u);
  EXPECT_EQ(stats.cancelled_by_client, 0u);
  EXPECT_EQ(stats.faults_injected, 1u);
  EXPECT_EQ(stats.active, 0u);

  Request get_stats{bhttp::verb::get, "/_simulator/stats", 11};
  get_stats.set(bhttp::field::host, "127.0.0.1");
  const json::value served = json::parse(RunClient(RoundTrip(Port(), get_stats)).body());
  EXPECT_EQ(served.at("messages_requests").as_int64(), 3);
  EXPECT_EQ(served.at("stream_requests").as_int64(), 1);
  EXPECT_EQ(served.at("completed").as_int64(), 3);
  EXPECT_EQ(served.at("cancelled_by_client").as_int64(), 0);
  EXPECT_EQ(served.at("faults_injected").as_int64(), 1);
  EXPECT_EQ(served.at("active").as_int64(), 0);

  Request reset{bhttp::verb::post, "/_simulator/reset", 11};
  reset.set(bhttp::field::host, "127.0.0.1");
  const Response reset_response = RunClient(RoundTrip(Port(), reset));
  EXPECT_EQ(reset_response.result_int(), 200);
  EXPECT_EQ(json::parse(reset_response.body()).at("messages_requests").as_int64(), 0);
  stats = simulator_->Stats();
  EXPECT_EQ(stats.messages_requests, 0u);
  EXPECT_EQ(stats.completed, 0u);
  EXPECT_EQ(stats.faults_injected, 0u);
}

TEST_F(SimulatorEndToEndTest, PromptCacheWritesThenReadsAndResetForgets) {
  StartSimulator();
  const std::string body = json::serialize(json::object{
      {"model", "m"},
      {"max_tokens", 10},
      {"system", json::array{json::object{{"type", "text"},
                                          {"text", std::string(400, 's')},
                                          {"cache_control", {{"type", "ephemeral"}}}}}},
      {"messages", json::array{json::object{{"role", "user"}, {"content", "hi"}}}}});
  const auto usage_of = [&] {
    return json::parse(RunClient(RoundTrip(Port(), MessagesRequest(body))).body()).at("usage");
  };
  const json::value first = usage_of();
  EXPECT_EQ(first.at("cache_creation_input_tokens").as_int64(), 100);
  EXPECT_EQ(first.at("cache_read_input_tokens").as_int64(), 0);
  EXPECT_EQ(first.at("input_tokens").as_int64(), 1);
  const json::value second = usage_of();
  EXPECT_EQ(second.at("cache_creation_input_tokens").as_int64(), 0);
  EXPECT_EQ(second.at("cache_read_input_tokens").as_int64(), 100);

  Request reset{bhttp::verb::post, "/_simulator/reset", 11};
  reset.set(bhttp::field::host, "127.0.0.1");
  RunClient(RoundTrip(Port(), reset));
  EXPECT_EQ(usage_of().at("cache_creation_input_tokens").as_int64(), 100);
}

TEST_F(SimulatorEndToEndTest, BulkAnswerStreamsItsBytesInSixteenKiBDeltasIgnoringMaxTokens) {
  StartSimulator();
  constexpr std::size_t kBytes = 100000;
  const std::string body = Body("Bulk please [[simulate:bulk:100000]]", true, /*max_tokens=*/5);
  const Response streamed = RunClient(RoundTrip(Port(), MessagesRequest(body)));
  ASSERT_EQ(streamed.result_int(), 200) << streamed.body();
  const std::vector<SseEvent> events = ParseEvents(streamed.body());
  ASSERT_GE(events.size(), 6u);
  EXPECT_EQ(events[0].name, "message_start");
  EXPECT_EQ(events[events.size() - 1].name, "message_stop");
  std::string text;
  std::size_t deltas = 0;
  for (const SseEvent& event : events) {
    if (event.name != "content_block_delta") continue;
    const std::size_t before = text.size();
    text += event.data.at("delta").at("text").as_string();
    EXPECT_LE(text.size() - before, kBulkDeltaBytes);
    ++deltas;
  }
  EXPECT_EQ(text.size(), kBytes);
  EXPECT_EQ(deltas, (kBytes + kBulkDeltaBytes - 1) / kBulkDeltaBytes);
  std::istringstream words{text};
  std::int64_t word_count = 0;
  for (std::string token; words >> token;) {
    if (token.find_first_not_of('.') != std::string::npos) ++word_count;
  }
  const json::value& final_delta = events[events.size() - 2].data;
  EXPECT_EQ(final_delta.at("delta").at("stop_reason").as_string(), "end_turn");
  EXPECT_EQ(final_delta.at("usage").at("output_tokens").as_int64(), word_count);

  // Not streamed: the same text and counts in one Message.
  const Response plain = RunClient(
      RoundTrip(Port(), MessagesRequest(Body("Bulk please [[simulate:bulk:100000]]", false, 5))));
  ASSERT_EQ(plain.result_int(), 200);
  const json::value message = json::parse(plain.body());
  EXPECT_EQ(message.at("content").at(0).at("text").as_string(), text);
  EXPECT_EQ(message.at("usage").at("output_tokens").as_int64(), word_count);
  // The server counts an answer once its last write completed, which may be just after the
  // client finished reading it.
  EXPECT_EQ(WaitForStats([](const auto& s) { return s.completed == 2; }).completed, 2u);
}

TEST_F(SimulatorEndToEndTest, BulkStreamWithErrorMidStreamFailsAfterThreeFullDeltas) {
  StartSimulator();
  const Response streamed = RunClient(RoundTrip(
      Port(),
      MessagesRequest(Body("[[simulate:bulk:100000]] [[simulate:error-mid-stream]]", true))));
  ASSERT_EQ(streamed.result_int(), 200);
  const std::vector<SseEvent> events = ParseEvents(streamed.body());
  ASSERT_FALSE(events.empty());
  std::size_t text_bytes = 0;
  std::size_t deltas = 0;
  for (const SseEvent& event : events) {
    if (event.name != "content_block_delta") continue;
    text_bytes += event.data.at("delta").at("text").as_string().size();
    ++deltas;
  }
  EXPECT_EQ(deltas, 3u);
  EXPECT_EQ(text_bytes, 3 * kBulkDeltaBytes);
  EXPECT_EQ(events.back().name, "error");
  EXPECT_EQ(events.back().data.at("error").at("type").as_string(), "overloaded_error");
}

TEST_F(SimulatorEndToEndTest, BulkStreamNoticesAClientThatLeavesWhileItIsBlocked) {
  StartSimulator();
  // 64 MiB: far more than loopback socket buffers hold, so the simulator is blocked in a
  // write when the client, which stopped reading after the first delta, closes.
  const std::string received = RunClient(ReadThenLeave(
      Port(), MessagesRequest(Body("[[simulate:bulk:67108864]]", true)), "content_block_delta"));
  EXPECT_NE(received.find("content_block_delta"), std::string::npos);
  const SimulatorStats stats =
      WaitForStats([](const auto& s) { return s.cancelled_by_client == 1 && s.active == 0; });
  EXPECT_EQ(stats.cancelled_by_client, 1u);
  EXPECT_EQ(stats.completed, 0u);
  EXPECT_EQ(stats.active, 0u);
}

TEST_F(SimulatorEndToEndTest, ClientLeavingMidStreamIsCountedAsCancelled) {
  StartSimulator();
  const std::string received = RunClient(
      ReadThenLeave(Port(), MessagesRequest(Body("[[simulate:chunk-delay:200]] long", true)),
                    "content_block_delta"));
  EXPECT_NE(received.find("message_start"), std::string::npos);
  EXPECT_EQ(received.find("message_stop"), std::string::npos);
  const SimulatorStats stats =
      WaitForStats([](const auto& s) { return s.cancelled_by_client == 1 && s.active == 0; });
  EXPECT_EQ(stats.cancelled_by_client, 1u);
  EXPECT_EQ(stats.completed, 0u);
  EXPECT_EQ(stats.active, 0u);
}

TEST_F(SimulatorEndToEndTest, HangingRequestEndsWhenTheClientLeaves) {
  StartSimulator();
  std::thread client{[port = Port()] {
    RunClient([](std::uint16_t p) -> Task<void> {
      TcpStream stream = co_await Connect(p);
      Request request = MessagesRequest(Body("[[simulate:hang]]"));
      request.prepare_payload();
      co_await bhttp::async_write(stream, request, kUseTask);
      // Stay until the simulator has the request in progress, then leave.
      SteadyTimer pause{co_await net::this_coro::executor, 300ms};
      co_await pause.async_wait(kUseTask);
      stream.socket().close();
    }(port));
  }};
  const SimulatorStats during = WaitForStats([](const auto& s) { return s.active == 1; });
  EXPECT_EQ(during.active, 1u);
  client.join();
  const SimulatorStats after =
      WaitForStats([](const auto& s) { return s.cancelled_by_client == 1 && s.active == 0; });
  EXPECT_EQ(after.cancelled_by_client, 1u);
  EXPECT_EQ(after.active, 0u);
}

TEST_F(SimulatorEndToEndTest, SlowDirectiveStillAnswers) {
  StartSimulator();
  const Response response =
      RunClient(RoundTrip(Port(), MessagesRequest(Body("[[simulate:slow:50]] hi"))));
  EXPECT_EQ(response.result_int(), 200);
  const SimulatorStats stats = simulator_->Stats();
  EXPECT_EQ(stats.faults_injected, 1u);
}

TEST_F(SimulatorEndToEndTest, FailTimesFailsTheFirstRequestsThenAnswers) {
  StartSimulator();
  const std::string body = Body("retry me [[simulate:fail-times:2:529]]");
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const Response failed = RunClient(RoundTrip(Port(), MessagesRequest(body)));
    EXPECT_EQ(failed.result_int(), 529) << "attempt " << attempt;
    const json::value error = json::parse(failed.body());
    EXPECT_EQ(error.at("error").at("type").as_string(), "overloaded_error");
    EXPECT_EQ(error.at("request_id").as_string(), failed["request-id"]);
  }
  for (int attempt = 3; attempt <= 4; ++attempt) {
    const Response answered = RunClient(RoundTrip(Port(), MessagesRequest(body)));
    EXPECT_EQ(answered.result_int(), 200) << "attempt " << attempt;
    EXPECT_EQ(json::parse(answered.body()).at("type").as_string(), "message");
  }
  // Other content, and the same content streamed, are counted on their own.
  EXPECT_EQ(
      RunClient(RoundTrip(Port(), MessagesRequest(Body("other [[simulate:fail-times:2:529]]"))))
          .result_int(),
      529);
  const Response streamed = RunClient(RoundTrip(
      Port(), MessagesRequest(Body("retry me [[simulate:fail-times:2:529]]", /*stream=*/true))));
  EXPECT_EQ(streamed.result_int(), 529);
  const SimulatorStats stats = WaitForStats([](const auto& s) { return s.completed == 6; });
  EXPECT_EQ(stats.messages_requests, 6u);
  EXPECT_EQ(stats.completed, 6u);
  EXPECT_EQ(stats.faults_injected, 6u);
}

TEST_F(SimulatorEndToEndTest, FailTimesSendsEachStatusWithItsErrorType) {
  StartSimulator();
  const struct {
    const char* failure;
    unsigned status;
    const char* type;
  } rows[] = {{"429", 429, "rate_limit_error"}, {"500", 500, "api_error"},
              {"502", 502, "api_error"},        {"503", 503, "api_error"},
              {"504", 504, "timeout_error"},    {"529", 529, "overloaded_error"}};
  for (const auto& row : rows) {
    const Response response = RunClient(RoundTrip(
        Port(),
        MessagesRequest(Body(std::string("[[simulate:fail-times:1:") + row.failure + "]]"))));
    EXPECT_EQ(response.result_int(), row.status) << row.failure;
    EXPECT_EQ(json::parse(response.body()).at("error").at("type").as_string(), row.type);
    if (row.status == 429) {
      EXPECT_EQ(response["retry-after"], "0");
    } else {
      EXPECT_EQ(response.count("retry-after"), 0u) << row.failure;
    }
  }
}

TEST_F(SimulatorEndToEndTest, FailTimesResetClosesWithoutAnswerThenAnswers) {
  StartSimulator();
  const std::string body = Body("[[simulate:fail-times:1:reset]] then fine", true);
  EXPECT_EQ(RunClient(RoundTrip(Port(), MessagesRequest(body))).result_int(), 0);
  const Response answered = RunClient(RoundTrip(Port(), MessagesRequest(body)));
  EXPECT_EQ(answered.result_int(), 200);
  EXPECT_EQ(answered[bhttp::field::content_type], "text/event-stream");
  const SimulatorStats stats = WaitForStats([](const auto& s) { return s.completed == 1; });
  EXPECT_EQ(stats.messages_requests, 2u);
  EXPECT_EQ(stats.completed, 1u);  // The reset is a deliberate disconnect, counted in neither.
  EXPECT_EQ(stats.cancelled_by_client, 0u);
}

TEST_F(SimulatorEndToEndTest, FailTimesOverridesAHangUntilItsFailuresAreSpent) {
  StartSimulator();
  const Response response = RunClient(
      RoundTrip(Port(), MessagesRequest(Body("[[simulate:hang]] [[simulate:fail-times:1:503]]"))));
  EXPECT_EQ(response.result_int(), 503);
}

TEST_F(SimulatorEndToEndTest, ResetForgetsFailTimesCounts) {
  StartSimulator();
  const std::string body = Body("[[simulate:fail-times:1:500]] counted");
  EXPECT_EQ(RunClient(RoundTrip(Port(), MessagesRequest(body))).result_int(), 500);
  EXPECT_EQ(RunClient(RoundTrip(Port(), MessagesRequest(body))).result_int(), 200);
  Request reset{bhttp::verb::post, "/_simulator/reset", 11};
  reset.set(bhttp::field::host, "127.0.0.1");
  EXPECT_EQ(RunClient(RoundTrip(Port(), reset)).result_int(), 200);
  EXPECT_EQ(RunClient(RoundTrip(Port(), MessagesRequest(body))).result_int(), 500);
}

}  // namespace
}  // namespace cms::simulator
