#include "app/app.hpp"

#include <array>
#include <future>
#include <stdexcept>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <openssl/rand.h>

#include "app/file_limit.hpp"
#include "app/termination_signal.hpp"
#include "cache/make_response_cache.hpp"
#include "core/hex.hpp"
#include "limits/memory_limiter.hpp"
#include "simulator/simulator.hpp"
#include "store/static_key_store.hpp"
#include "upstream/anthropic_client.hpp"
#include "upstream/retrying_provider.hpp"

namespace cms::app {

namespace {

using http::bhttp::verb;
using observability::LogLevel;

// How often expired cache entries are reclaimed without waiting for a read.
constexpr std::chrono::milliseconds kCacheSweepInterval{5000};

// A random key shared only by this process and its built-in simulator.
std::string RandomHexKey() {
  std::array<unsigned char, 24> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("cannot draw random bytes for the simulator key");
  }
  return core::ToHex(bytes);
}

http::CorsPolicy MakeCorsPolicy(const config::Settings& settings) {
  http::CorsPolicy cors;
  cors.allow_any_origin = settings.cors_allow_any_origin;
  cors.allowed_origins = settings.cors_allow_origins;
  return cors;
}

handlers::HandlerSettings MakeHandlerSettings(const config::Settings& settings) {
  handlers::HandlerSettings handler_settings;
  handler_settings.limits = api::RequestLimits{settings.default_model, settings.default_max_tokens,
                                               settings.max_tokens_limit};
  handler_settings.upstream_timeout = settings.upstream_timeout;
  handler_settings.first_byte_timeout = settings.upstream_first_byte_timeout;
  handler_settings.stream_heartbeat = settings.stream_heartbeat;
  handler_settings.cache_enabled = settings.cache_ttl.count() > 0;
  return handler_settings;
}

limits::UpstreamGateOptions MakeGateOptions(const config::Settings& settings,
                                            std::size_t descriptors) {
  const std::size_t in_flight = settings.max_concurrent_upstream > 0
                                    ? static_cast<std::size_t>(settings.max_concurrent_upstream)
                                    : AutoUpstreamConcurrency(descriptors);
  const std::size_t waiting = settings.upstream_queue_max > 0
                                  ? static_cast<std::size_t>(settings.upstream_queue_max)
                                  : in_flight;
  return limits::UpstreamGateOptions{.max_in_flight = in_flight,
                                     .max_waiting = waiting,
                                     .max_wait = settings.upstream_queue_timeout};
}

}  // namespace

App::App(config::Settings settings)
    : settings_(std::move(settings)),
      logger_(observability::JsonLoggerOptions{.level = settings_.log_level}),
      workers_(settings_.workers),
      upstream_base_url_(settings_.anthropic_base_url),
      upstream_api_key_(settings_.anthropic_api_key),
      handler_settings_(MakeHandlerSettings(settings_)) {
  if (settings_.use_simulator) StartBuiltInSimulator();

  cache_ = cache::MakeResponseCache(
      cache::CacheSettings{.backend = cache::CacheSettings::Backend::kMemory,
                           .memory = {.ttl = settings_.cache_ttl,
                                      .max_entries = settings_.cache_max_entries,
                                      .max_bytes = settings_.cache_max_bytes}});
  key_store_ = std::make_unique<store::StaticKeyStore>(settings_.service_api_keys);
  limiter_ = std::make_unique<limits::MemoryLimiter>(limits::MemoryLimiterOptions{
      .requests_per_minute = static_cast<std::uint32_t>(settings_.rate_limit_per_minute),
      .burst = static_cast<std::uint32_t>(settings_.rate_limit_burst)});
  client_ = std::make_unique<upstream::AnthropicClient>(
      upstream::AnthropicClientOptions{.base_url = upstream_base_url_,
                                       .api_key = upstream_api_key_,
                                       .anthropic_version = settings_.anthropic_version,
                                       .connect_timeout = settings_.upstream_connect_timeout,
                                       .stream_idle_timeout = settings_.stream_idle_timeout,
                                       .max_idle_connections_per_worker = static_cast<std::size_t>(
                                           settings_.upstream_keepalive_connections)},
      workers_, logger_);
  provider_ = std::make_unique<upstream::RetryingProvider>(
      *client_,
      upstream::RetryPolicy{.max_retries = settings_.upstream_max_retries,
                            .base_delay = settings_.upstream_retry_base_delay},
      logger_);
  // Raised before sizing the gate from it: every caller and upstream call holds a descriptor.
  upstream_gate_options_ = MakeGateOptions(settings_, RaiseFileDescriptorLimit());
  upstream_gate_ = std::make_unique<limits::UpstreamGate>(upstream_gate_options_);

  context_ = std::make_unique<handlers::HandlerContext>(
      handlers::HandlerContext{handler_settings_, *key_store_, *limiter_, *cache_, flights_,
                               *upstream_gate_, *provider_, logger_});
  readiness_handler_ = std::make_unique<handlers::ReadinessHandler>(
      draining_, std::vector<handlers::ReadinessCheck*>{});
  completions_handler_ = std::make_unique<handlers::CompletionsHandler>(*context_);
  stream_handler_ = std::make_unique<handlers::StreamHandler>(*context_);
  router_.Add(verb::get, "/health", health_handler_);
  router_.Add(verb::get, "/health/ready", *readiness_handler_);
  router_.Add(verb::post, "/v1/completions", *completions_handler_);
  router_.Add(verb::post, "/v1/completions/stream", *stream_handler_);

  http::ServerOptions server_options;
  server_options.host = settings_.host;
  server_options.port = settings_.port;
  server_options.max_request_bytes = settings_.max_request_bytes;
  server_options.accept_delay = settings_.shutdown_accept_delay;
  server_options.cors = MakeCorsPolicy(settings_);
  server_ = std::make_unique<http::Server>(workers_, router_, std::move(server_options), logger_);
}

App::~App() {
  workers_.Stop(/*abandon_work=*/true);
  if (simulator_workers_) simulator_workers_->Stop(/*abandon_work=*/true);
}

void App::StartBuiltInSimulator() {
  // Said first, and loudly: answers in this mode do not come from Claude.
  logger_.Warning("simulator_mode", "",
                  {{"message",
                    "ANTHROPIC_API_KEY is not set and ENVIRONMENT=development: serving against "
                    "the built-in simulator of the Anthropic API; answers are not from Claude"}});
  upstream_api_key_ = RandomHexKey();
  simulator::SimulatorOptions options;
  options.host = "127.0.0.1";
  options.port = settings_.simulator_port;
  options.api_key = upstream_api_key_;
  options.chunk_delay = settings_.simulator_chunk_delay;
  simulator_workers_ = std::make_unique<core::WorkerPool>(1);
  simulator_ = std::make_unique<simulator::Simulator>(options, *simulator_workers_, logger_);
  simulator_->Start();
  simulator_workers_->Start();
  upstream_base_url_ = simulator_->BaseUrl();
}

void App::StartCacheSweeper() {
  if (settings_.cache_ttl.count() == 0) return;
  net::co_spawn(workers_.Context(0), cache::RunCacheMaintenance(*cache_, kCacheSweepInterval),
                net::bind_cancellation_slot(stop_sweeper_.slot(), net::detached));
}

void App::LogStartup() {
  logger_.Info("service_startup", "",
               {{"version", CMS_VERSION},
                {"environment", config::EnvironmentName(settings_.environment)},
                {"default_model", settings_.default_model},
                {"cache_ttl_seconds", settings_.cache_ttl.count()},
                {"upstream", provider_->Describe()},
                {"simulator", settings_.use_simulator},
                {"service_key", settings_.service_key_is_development_default ? "development default"
                                                                             : "configured"},
                {"max_concurrent_upstream", upstream_gate_options_.max_in_flight},
                {"host", settings_.host},
                {"port", server_->Port()},
                {"workers", workers_.Size()}});
}

int App::Run() {
  server_->Listen();
  server_->Start();
  StartCacheSweeper();
  workers_.Start();
  LogStartup();

  const int signal_number = WaitForTerminationSignal();
  draining_.store(true);
  logger_.Info("service_draining", "",
               {{"signal", signal_number},
                {"grace_seconds", settings_.shutdown_grace.count()},
                {"open_connections", server_->OpenConnections()}});
  const bool drained = server_->Drain(settings_.shutdown_grace);

  std::promise<void> sweeper_stopped;
  net::post(workers_.Context(0), [this, &sweeper_stopped] {
    stop_sweeper_.emit(net::cancellation_type::terminal);
    sweeper_stopped.set_value();
  });
  sweeper_stopped.get_future().wait();
  workers_.Stop(/*abandon_work=*/!drained);
  if (simulator_) {
    simulator_->Drain(std::chrono::seconds(1));
    simulator_workers_->Stop(/*abandon_work=*/true);
  }
  logger_.Info("service_shutdown", "", {{"drained", drained}});
  logger_.Flush();
  return 0;
}

}  // namespace cms::app
