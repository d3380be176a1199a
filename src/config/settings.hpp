// File: config/settings.hpp
//
// Settings: every configuration variable of the service (CONTRACT.md section 9), validated
// once at startup into typed values. Components receive the fields they need from the App;
// nothing else reads the environment.
//
// Sources: a `.env` file in the working directory, then the process environment, which wins
// (CollectVariables). LoadSettings checks every variable and, when any is wrong, throws one
// ConfigError listing every problem, one line per bad variable, e.g.
//   PORT: must be an integer from 0 to 65535, got "abc"
// The value of a variable whose name ends in _KEY is never repeated in a message.
//
// Thread safety: Settings is a plain value, immutable after LoadSettings; share it freely.
// The functions are pure apart from CollectVariables reading the .env file.
//
// Example:
//   const Settings settings = LoadSettings(CollectVariables(environ, ".env"));
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "observability/logger.hpp"

namespace cms::config {

enum class Environment { kDevelopment, kStaging, kProduction };

// "development", "staging", "production".
std::string_view EnvironmentName(Environment environment);

// Parses ENVIRONMENT (case-insensitive). nullopt if unknown.
std::optional<Environment> ParseEnvironment(std::string_view text);

// Parses a size: a decimal number of bytes with an optional suffix, KiB/MiB/GiB, also spelled
// K/M/G or KB/MB/GB, all powers of 1024 (case-insensitive; blanks allowed before the suffix;
// "B" alone means bytes): "8388608", "256MiB", "256 MiB", "8m". nullopt when malformed or
// beyond std::size_t.
std::optional<std::size_t> ParseByteSize(std::string_view text);

// The key the service accepts when SERVICE_API_KEY is unset and it runs on the simulator.
inline constexpr std::string_view kDevelopmentServiceKey = "dev-local-key";

// Each field names its variable, default and unit.
struct Settings {
  // --- Deployment ---------------------------------------------------------------------
  // ENVIRONMENT: development | staging | production. Default development.
  Environment environment = Environment::kDevelopment;

  // --- Upstream (Anthropic) -----------------------------------------------------------
  // ANTHROPIC_API_KEY. Required in staging and production. Empty only when
  // use_simulator is true.
  std::string anthropic_api_key;
  // Derived: true in development when ANTHROPIC_API_KEY is unset or empty. The service then
  // starts its built-in simulator, points the upstream at it and says so in its first log
  // line. Never true in staging or production.
  bool use_simulator = false;
  // ANTHROPIC_BASE_URL: absolute http(s) URL, no query or fragment, trailing '/' removed.
  // Default "https://api.anthropic.com". Ignored when use_simulator is true.
  std::string anthropic_base_url = "https://api.anthropic.com";
  // ANTHROPIC_VERSION: the anthropic-version header sent upstream. Default "2023-06-01".
  std::string anthropic_version = "2023-06-01";
  // UPSTREAM_TIMEOUT_SECONDS: bound on one whole upstream call. Default 120 s; >= 1.
  std::chrono::seconds upstream_timeout{120};
  // UPSTREAM_CONNECT_TIMEOUT_SECONDS: bound on resolve + connect + TLS handshake (within
  // upstream_timeout). Default 10 s; >= 1.
  std::chrono::seconds upstream_connect_timeout{10};
  // STREAM_IDLE_TIMEOUT_SECONDS: a stream whose upstream sends nothing for this long ends
  // with an error event. Default 60 s; >= 1.
  std::chrono::seconds stream_idle_timeout{60};
  // UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: a stream whose upstream has not begun answering
  // (response head) within this time ends with 504 before anything is sent. Non-streaming
  // calls, whose head arrives only with the whole answer, are bounded by upstream_timeout.
  // Default 30 s; >= 1.
  std::chrono::seconds upstream_first_byte_timeout{30};
  // UPSTREAM_MAX_RETRIES: retries of an upstream call that failed with 429, 529, 500, 502,
  // 503, 504 or a connection failure, only while nothing was sent to the caller. Default 2;
  // 0 to 10.
  int upstream_max_retries = 2;
  // UPSTREAM_RETRY_BASE_DELAY_MS: first backoff step (exponential, full jitter, at most 8 s)
  // when the upstream gives no Retry-After. Default 500 ms; 1 to 60000.
  std::chrono::milliseconds upstream_retry_base_delay{500};
  // MAX_CONCURRENT_UPSTREAM: upstream calls in flight at once; beyond it callers queue, and
  // past the queue they get 503 with Retry-After. Default 0: sized from the process's file
  // descriptor limit (each call holds one socket besides its caller's). 0 to 1,000,000.
  std::int64_t max_concurrent_upstream = 0;
  // UPSTREAM_QUEUE_MAX: callers that may wait for an upstream slot. Default 0: as many as
  // MAX_CONCURRENT_UPSTREAM. 0 to 1,000,000.
  std::int64_t upstream_queue_max = 0;
  // UPSTREAM_QUEUE_TIMEOUT_MS: longest wait for an upstream slot before 503. Default 5000;
  // 0 to 600000 (0: never wait).
  std::chrono::milliseconds upstream_queue_timeout{5000};
  // UPSTREAM_KEEPALIVE_CONNECTIONS: idle keep-alive connections to the upstream kept per
  // worker thread for reuse (the oldest is closed beyond it). Default 256; 0 to 100,000
  // (0: a new connection per call).
  std::int64_t upstream_keepalive_connections = 256;

  // --- Callers ------------------------------------------------------------------------
  // SERVICE_API_KEY: the keys callers may send in X-API-Key, comma-separated so a key can
  // be rotated (old and new accepted together). Blanks around each key are ignored.
  // Required unless use_simulator is true; then, when unset, it is {"dev-local-key"}.
  std::vector<std::string> service_api_keys;
  // Derived: true when service_api_keys is the documented development default.
  bool service_key_is_development_default = false;

  // --- Requests -----------------------------------------------------------------------
  // DEFAULT_MODEL: model used when a request names none. Default "claude-sonnet-4-6".
  std::string default_model = "claude-sonnet-4-6";
  // DEFAULT_MAX_TOKENS: max_tokens when a request gives none. Default 1024; 1 to
  // max_tokens_limit.
  std::int64_t default_max_tokens = 1024;
  // MAX_TOKENS_LIMIT: the largest max_tokens a request may ask for. Default 8096; 1 to
  // 1,000,000.
  std::int64_t max_tokens_limit = 8096;
  // MAX_REQUEST_BYTES: largest request body; larger ones get 413. Default 8 MiB; bytes, at
  // least 1 KiB (suffixes as ParseByteSize).
  std::size_t max_request_bytes = std::size_t{8} * 1024 * 1024;

  // --- Response cache -----------------------------------------------------------------
  // CACHE_TTL_SECONDS: how long an answer is reused. Default 300 s; 0 turns the cache off.
  std::chrono::seconds cache_ttl{300};
  // CACHE_MAX_ENTRIES: most answers kept. Default 10000; >= 1.
  std::size_t cache_max_entries = 10000;
  // CACHE_MAX_BYTES: most bytes of answers kept. Default 256 MiB; bytes, >= 1.
  std::size_t cache_max_bytes = std::size_t{256} * 1024 * 1024;

  // --- Rate limit ---------------------------------------------------------------------
  // RATE_LIMIT_PER_MINUTE: requests per minute per caller key. Default 0 (no limit).
  std::int64_t rate_limit_per_minute = 0;
  // RATE_LIMIT_BURST: requests a caller may make at once. Default max(1, per_minute / 6)
  // (ten seconds' worth); >= 1.
  std::int64_t rate_limit_burst = 1;

  // --- HTTP server --------------------------------------------------------------------
  // HOST: address to bind. Default "0.0.0.0"; non-empty.
  std::string host = "0.0.0.0";
  // PORT: port to bind; 0 picks any free port. Default 8000.
  std::uint16_t port = 8000;
  // WORKERS: I/O threads. Default the number of cores (1 if unknown); 1 to 256.
  std::size_t workers = 1;
  // CORS_ALLOW_ORIGINS: comma list of origins ("scheme://host[:port]", lowercased, default
  // port dropped) allowed to call us from a browser. Default empty. "*" sets
  // cors_allow_any_origin instead of appearing here.
  std::vector<std::string> cors_allow_origins;
  // Derived: true in development (every origin allowed) or when the list holds "*".
  bool cors_allow_any_origin = false;
  // STREAM_HEARTBEAT_SECONDS: idle time before a ": ping" comment on a stream. Default 15 s;
  // >= 1.
  std::chrono::seconds stream_heartbeat{15};
  // SHUTDOWN_GRACE_SECONDS: how long in-flight requests may finish after SIGTERM. Default
  // 30 s; >= 0 (0: close at once).
  std::chrono::seconds shutdown_grace{30};
  // SHUTDOWN_ACCEPT_DELAY_SECONDS: after SIGTERM, readiness answers 503 at once but new
  // connections are still accepted this long, so load balancers see the change before
  // connections are refused. Counted within shutdown_grace. Default 2 s; >= 0.
  std::chrono::seconds shutdown_accept_delay{2};

  // --- Logging ------------------------------------------------------------------------
  // LOG_LEVEL: DEBUG, INFO, WARNING (or WARN), ERROR; case-insensitive. Default INFO.
  observability::LogLevel log_level = observability::LogLevel::kInfo;

  // --- Built-in simulator (only when use_simulator is true) ---------------------------
  // SIMULATOR_PORT: loopback port of the built-in simulator; 0 picks any free port.
  // Default 0.
  std::uint16_t simulator_port = 0;
  // SIMULATOR_CHUNK_DELAY_MS: pause between streamed chunks. Default 20 ms; 0 to 60000.
  std::chrono::milliseconds simulator_chunk_delay{20};
};

// Thrown by LoadSettings and CollectVariables. what() is every problem joined by '\n'.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  // One line per bad variable (or malformed .env line), in a stable order.
  [[nodiscard]] const std::vector<std::string>& Problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Validates `variables` (name -> value; unknown names are ignored) into Settings, applying
// the defaults above. An empty value counts as unset only for ANTHROPIC_API_KEY and
// SERVICE_API_KEY; for any other variable it is checked like any value (and so is usually
// an error). Throws ConfigError listing every problem.
Settings LoadSettings(const std::map<std::string, std::string>& variables);

// The variables of the `.env` file at `dotenv_path` (none when it does not exist) overlaid
// with the process environment `environ_ptr` ("NAME=VALUE" strings, null-terminated array;
// nullptr means none): a variable set in both takes the environment's value. Within the
// file the last assignment wins. Throws ConfigError naming the path and line of every
// malformed line, or the reason the file cannot be read.
std::map<std::string, std::string> CollectVariables(char** environ_ptr,
                                                    const std::filesystem::path& dotenv_path);

}  // namespace cms::config
