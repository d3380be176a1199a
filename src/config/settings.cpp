#include "config/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <thread>
#include <utility>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "config/dotenv.hpp"

namespace cms::config {

namespace {

using observability::LogLevel;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// Durations beyond a year are surely typos, and `now() + duration` must not overflow.
constexpr std::int64_t kMaxDurationSeconds = 365LL * 24 * 60 * 60;
constexpr std::int64_t kMaxTokensCeiling = 1'000'000;
constexpr std::size_t kMaxQuotedValue = 80;

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const auto start = text.find_first_not_of(kBlanks);
  if (start == std::string_view::npos) return {};
  return text.substr(start, text.find_last_not_of(kBlanks) - start + 1);
}

std::string ToLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Printable ASCII without blanks: what may go into (or be compared with) an HTTP header
// value as a single token.
bool IsToken(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < '\x7f'; });
}

// `value` in double quotes for a message: escaped so control characters cannot reach a
// terminal, and shortened so a pasted blob does not flood it.
std::string Quote(std::string_view value) {
  std::string quoted = "\"";
  const bool too_long = value.size() > kMaxQuotedValue;
  for (const char c : value.substr(0, kMaxQuotedValue)) {
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
      quoted.push_back(c);
    } else if (c >= ' ' && c < '\x7f') {
      quoted.push_back(c);
    } else {
      std::array<char, 8> escaped{};
      std::snprintf(escaped.data(), escaped.size(), "\\x%02X", static_cast<unsigned char>(c));
      quoted.append(escaped.data());
    }
  }
  if (too_long) quoted.append("...");
  quoted.push_back('"');
  return quoted;
}

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  text = Trim(text);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string IntegerRangeText(std::int64_t min, std::int64_t max) {
  if (max == kInt64Max) return "an integer >= " + std::to_string(min);
  return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// Reads the variables, collecting one problem per bad variable. Each Read* returns the
// parsed value, or `fallback` (after recording the problem) so checking can go on.
class Reader {
 public:
  explicit Reader(const std::map<std::string, std::string>& variables) : variables_(variables) {}

  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const {
    const auto it = variables_.find(std::string(name));
    if (it == variables_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

  // "NAME: <what>, got "<value>"", leaving out the value of a *_KEY variable.
  void Report(std::string_view name, std::string_view what, std::string_view value) {
    std::string problem = std::string(name) + ": " + std::string(what);
    if (!EndsWith(name, "_KEY")) problem += ", got " + Quote(value);
    problems_.push_back(std::move(problem));
  }
  // "NAME: <what>", for rules that no single value breaks.
  void ReportRule(std::string_view name, std::string_view what) {
    problems_.push_back(std::string(name) + ": " + std::string(what));
  }

  std::int64_t ReadInteger(std::string_view name, std::int64_t min, std::int64_t max,
                           std::int64_t fallback, std::string_view note = {}) {
    const auto text = Get(name);
    if (!text) return fallback;
    const auto value = ParseInteger(*text);
    if (!value || *value < min || *value > max) {
      Report(name, "must be " + IntegerRangeText(min, max) + std::string(note), *text);
      return fallback;
    }
    return *value;
  }

  std::chrono::seconds ReadSeconds(std::string_view name, std::int64_t min,
                                   std::chrono::seconds fallback) {
    return std::chrono::seconds(ReadInteger(name, min, kMaxDurationSeconds, fallback.count()));
  }

  std::uint16_t ReadPort(std::string_view name, std::uint16_t fallback) {
    return static_cast<std::uint16_t>(ReadInteger(name, 0, 65535, fallback));
  }

  std::size_t ReadByteSize(std::string_view name, std::size_t min, std::string_view min_text,
                           std::size_t fallback) {
    const auto text = Get(name);
    if (!text) return fallback;
    const auto value = ParseByteSize(*text);
    if (!value) {
      Report(name,
             "must be a size in bytes, optionally with a KiB, MiB or GiB suffix (e.g. 256MiB)",
             *text);
      return fallback;
    }
    if (*value < min) {
      Report(name, "must be at least " + std::string(min_text), *text);
      return fallback;
    }
    return *value;
  }

  // A single token (no blanks or control characters), e.g. a model name or header value.
  std::string ReadToken(std::string_view name, std::string_view fallback) {
    const auto text = Get(name);
    if (!text) return std::string(fallback);
    if (text->empty()) {
      Report(name, "must not be empty", *text);
      return std::string(fallback);
    }
    if (!IsToken(*text)) {
      Report(name, "must not contain blanks or control characters", *text);
      return std::string(fallback);
    }
    return std::string(*text);
  }

  [[nodiscard]] std::size_t ProblemCount() const { return problems_.size(); }
  std::vector<std::string> TakeProblems() { return std::move(problems_); }

 private:
  const std::map<std::string, std::string>& variables_;
  std::vector<std::string> problems_;
};

std::optional<Environment> ReadEnvironment(Reader& reader) {
  const auto text = reader.Get("ENVIRONMENT");
  if (!text) return Environment::kDevelopment;
  auto environment = ParseEnvironment(*text);
  if (!environment) {
    reader.Report("ENVIRONMENT", "must be one of development, staging, production", *text);
  }
  return environment;
}

LogLevel ReadLogLevel(Reader& reader) {
  const auto text = reader.Get("LOG_LEVEL");
  if (!text) return LogLevel::kInfo;
  const auto level = observability::ParseLogLevel(*text);
  if (!level) {
    reader.Report("LOG_LEVEL", "must be one of DEBUG, INFO, WARNING, ERROR", *text);
    return LogLevel::kInfo;
  }
  return *level;
}

// The URL's explicit port, 0 when it has none, nullopt when it is not 1 to 65535 (Boost.URL's
// port_number() wraps larger numbers modulo 65536, so the text is checked here).
std::optional<std::int64_t> PortOf(const boost::urls::url_view& url) {
  if (!url.has_port()) return 0;
  const auto port = ParseInteger(url.port());
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  return port;
}

std::string ReadBaseUrl(Reader& reader, std::string_view fallback) {
  constexpr std::string_view kName = "ANTHROPIC_BASE_URL";
  const auto text = reader.Get(kName);
  if (!text) return std::string(fallback);
  const auto url = boost::urls::parse_absolute_uri(*text);
  if (url && url->has_userinfo()) {
    // Not echoed: the userinfo may be a password.
    reader.ReportRule(kName, "must not contain credentials (user:password@)");
    return std::string(fallback);
  }
  const bool valid = url &&
                     (url->scheme_id() == boost::urls::scheme::http ||
                      url->scheme_id() == boost::urls::scheme::https) &&
                     url->has_authority() && !url->encoded_host().empty() &&
                     PortOf(*url).has_value() && !url->has_query() && !url->has_fragment();
  if (!valid) {
    reader.Report(kName,
                  "must be an absolute http:// or https:// URL with a host and no query or "
                  "fragment",
                  *text);
    return std::string(fallback);
  }
  // The path ends the string (no query or fragment), and a host precedes it, so stripping
  // '/' never reaches the authority. Callers append "/v1/messages".
  std::string_view normalized = *text;
  while (normalized.back() == '/') normalized.remove_suffix(1);
  return std::string(normalized);
}

// An origin as browsers send it: lowercase scheme and host, default port omitted.
std::optional<std::string> NormalizeOrigin(std::string_view text) {
  const auto url = boost::urls::parse_absolute_uri(text);
  if (!url || !url->has_authority() || url->has_userinfo() || url->encoded_host().empty() ||
      !url->encoded_path().empty() || url->has_query() || url->has_fragment()) {
    return std::nullopt;
  }
  const auto port = PortOf(*url);
  if (!port) return std::nullopt;
  std::string origin = ToLower(url->scheme()) + "://" + ToLower(url->encoded_host());
  const bool default_port = (url->scheme_id() == boost::urls::scheme::http && *port == 80) ||
                            (url->scheme_id() == boost::urls::scheme::https && *port == 443);
  if (*port != 0 && !default_port) origin += ":" + std::to_string(*port);
  return origin;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> items;
  while (true) {
    const auto comma = text.find(',');
    items.push_back(Trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

void ReadCors(Reader& reader, Settings& settings) {
  constexpr std::string_view kName = "CORS_ALLOW_ORIGINS";
  const auto text = reader.Get(kName);
  if (!text) return;
  std::vector<std::string_view> bad;
  for (const std::string_view item : SplitCommas(*text)) {
    if (item.empty()) continue;  // "a, b," is a harmless trailing comma.
    if (item == "*") {
      settings.cors_allow_any_origin = true;
      continue;
    }
    auto origin = NormalizeOrigin(item);
    if (!origin) {
      bad.push_back(item);
    } else if (std::find(settings.cors_allow_origins.begin(), settings.cors_allow_origins.end(),
                         *origin) == settings.cors_allow_origins.end()) {
      settings.cors_allow_origins.push_back(std::move(*origin));
    }
  }
  if (!bad.empty()) {
    std::string what =
        "must be a comma list of * or scheme://host[:port] origins with no path; not an origin:";
    for (std::size_t i = 0; i < bad.size(); ++i) what += (i == 0 ? " " : ", ") + Quote(bad[i]);
    reader.ReportRule(kName, what);
  }
}

// The value of a *_KEY variable, or "" when unset or blank (which the rules treat alike).
std::string_view ReadSecret(const Reader& reader, std::string_view name) {
  const auto text = reader.Get(name);
  return text ? Trim(*text) : std::string_view{};
}

void ReadAnthropicKey(Reader& reader, std::optional<Environment> environment, Settings& settings) {
  constexpr std::string_view kName = "ANTHROPIC_API_KEY";
  const std::string_view key = ReadSecret(reader, kName);
  if (key.empty()) {
    if (environment == Environment::kDevelopment) {
      settings.use_simulator = true;
    } else if (environment) {
      reader.ReportRule(kName, "required in " + std::string(EnvironmentName(*environment)));
    }
    return;
  }
  if (!IsToken(key)) {
    reader.ReportRule(kName, "must not contain blanks or control characters");
    return;
  }
  settings.anthropic_api_key = std::string(key);
}

void ReadServiceKeys(Reader& reader, std::optional<Environment> environment, bool anthropic_key_set,
                     Settings& settings) {
  constexpr std::string_view kName = "SERVICE_API_KEY";
  const std::string_view text = ReadSecret(reader, kName);
  if (text.empty()) {
    if (settings.use_simulator) {
      settings.service_api_keys = {std::string(kDevelopmentServiceKey)};
      settings.service_key_is_development_default = true;
    } else if (environment || anthropic_key_set) {
      reader.ReportRule(kName,
                        "required unless the service runs on its built-in simulator "
                        "(development without ANTHROPIC_API_KEY)");
    }
    return;
  }
  for (const std::string_view key : SplitCommas(text)) {
    if (key.empty()) {
      reader.ReportRule(kName, "contains an empty key (check the commas)");
      return;
    }
    if (!IsToken(key)) {
      reader.ReportRule(kName, "keys must not contain blanks or control characters");
      return;
    }
    if (std::find(settings.service_api_keys.begin(), settings.service_api_keys.end(), key) ==
        settings.service_api_keys.end()) {
      settings.service_api_keys.emplace_back(key);
    }
  }
  const bool deployed =
      environment == Environment::kStaging || environment == Environment::kProduction;
  if (deployed && std::find(settings.service_api_keys.begin(), settings.service_api_keys.end(),
                            kDevelopmentServiceKey) != settings.service_api_keys.end()) {
    reader.ReportRule(kName, "the documented development key " +
                                 std::string(kDevelopmentServiceKey) + " is not allowed in " +
                                 std::string(EnvironmentName(*environment)));
  }
}

void ReadTokenLimits(Reader& reader, Settings& settings) {
  const std::size_t problems_before = reader.ProblemCount();
  settings.max_tokens_limit =
      reader.ReadInteger("MAX_TOKENS_LIMIT", 1, kMaxTokensCeiling, settings.max_tokens_limit);
  const bool limit_valid = reader.ProblemCount() == problems_before;
  // Against a bad limit, the default is checked against the widest legal limit instead, so
  // only its own fault (if any) is reported.
  const std::int64_t ceiling = limit_valid ? settings.max_tokens_limit : kMaxTokensCeiling;
  if (!reader.Get("DEFAULT_MAX_TOKENS")) {
    if (settings.default_max_tokens > ceiling) {
      reader.ReportRule("DEFAULT_MAX_TOKENS",
                        "the default " + std::to_string(settings.default_max_tokens) +
                            " is above MAX_TOKENS_LIMIT " + std::to_string(ceiling) +
                            "; set DEFAULT_MAX_TOKENS to at most " + std::to_string(ceiling));
    }
    return;
  }
  settings.default_max_tokens =
      reader.ReadInteger("DEFAULT_MAX_TOKENS", 1, ceiling, settings.default_max_tokens,
                         limit_valid ? " (MAX_TOKENS_LIMIT)" : "");
}

std::int64_t DefaultWorkers() {
  const unsigned cores = std::thread::hardware_concurrency();  // 0 when unknown.
  return std::clamp<std::int64_t>(cores, 1, 256);
}

}  // namespace

std::string_view EnvironmentName(Environment environment) {
  switch (environment) {
    case Environment::kDevelopment:
      return "development";
    case Environment::kStaging:
      return "staging";
    case Environment::kProduction:
      return "production";
  }
  return "unknown";  // Unreachable for a valid enumerator.
}

std::optional<Environment> ParseEnvironment(std::string_view text) {
  const std::string lower = ToLower(text);
  for (const auto environment :
       {Environment::kDevelopment, Environment::kStaging, Environment::kProduction}) {
    if (lower == EnvironmentName(environment)) return environment;
  }
  return std::nullopt;
}

std::optional<std::size_t> ParseByteSize(std::string_view text) {
  text = Trim(text);
  const auto digits_end =
      std::find_if(text.begin(), text.end(), [](char c) { return c < '0' || c > '9'; });
  const std::string_view digits =
      text.substr(0, static_cast<std::size_t>(digits_end - text.begin()));
  std::size_t number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  const std::string suffix = ToLower(Trim(text.substr(digits.size())));
  std::size_t multiplier = 0;
  if (suffix.empty() || suffix == "b") {
    multiplier = 1;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    multiplier = std::size_t{1} << 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    multiplier = std::size_t{1} << 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    multiplier = std::size_t{1} << 30;
  } else {
    return std::nullopt;
  }
  if (number > std::numeric_limits<std::size_t>::max() / multiplier) return std::nullopt;
  return number * multiplier;
}

namespace {

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const auto& line : lines) {
    if (!joined.empty()) joined.push_back('\n');
    joined += line;
  }
  return joined;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(JoinLines(problems)), problems_(std::move(problems)) {}

Settings LoadSettings(const std::map<std::string, std::string>& variables) {
  Reader reader(variables);
  Settings settings;

  const std::optional<Environment> environment = ReadEnvironment(reader);
  settings.environment = environment.value_or(Environment::kDevelopment);

  ReadAnthropicKey(reader, environment, settings);
  settings.anthropic_base_url = ReadBaseUrl(reader, settings.anthropic_base_url);
  settings.anthropic_version = reader.ReadToken("ANTHROPIC_VERSION", settings.anthropic_version);
  settings.upstream_timeout =
      reader.ReadSeconds("UPSTREAM_TIMEOUT_SECONDS", 1, settings.upstream_timeout);
  settings.upstream_connect_timeout =
      reader.ReadSeconds("UPSTREAM_CONNECT_TIMEOUT_SECONDS", 1, settings.upstream_connect_timeout);
  settings.stream_idle_timeout =
      reader.ReadSeconds("STREAM_IDLE_TIMEOUT_SECONDS", 1, settings.stream_idle_timeout);
  settings.upstream_first_byte_timeout = reader.ReadSeconds(
      "UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS", 1, settings.upstream_first_byte_timeout);
  settings.upstream_max_retries = static_cast<int>(
      reader.ReadInteger("UPSTREAM_MAX_RETRIES", 0, 10, settings.upstream_max_retries));
  settings.upstream_retry_base_delay = std::chrono::milliseconds(reader.ReadInteger(
      "UPSTREAM_RETRY_BASE_DELAY_MS", 1, 60'000, settings.upstream_retry_base_delay.count()));
  settings.max_concurrent_upstream =
      reader.ReadInteger("MAX_CONCURRENT_UPSTREAM", 0, 1'000'000, settings.max_concurrent_upstream);
  settings.upstream_queue_max =
      reader.ReadInteger("UPSTREAM_QUEUE_MAX", 0, 1'000'000, settings.upstream_queue_max);
  settings.upstream_queue_timeout = std::chrono::milliseconds(reader.ReadInteger(
      "UPSTREAM_QUEUE_TIMEOUT_MS", 0, 600'000, settings.upstream_queue_timeout.count()));
  settings.upstream_keepalive_connections = reader.ReadInteger(
      "UPSTREAM_KEEPALIVE_CONNECTIONS", 0, 100'000, settings.upstream_keepalive_connections);

  ReadServiceKeys(reader, environment, !settings.anthropic_api_key.empty(), settings);

  settings.default_model = reader.ReadToken("DEFAULT_MODEL", settings.default_model);
  ReadTokenLimits(reader, settings);
  settings.max_request_bytes = reader.ReadByteSize("MAX_REQUEST_BYTES", 1024, "1 KiB (1024 bytes)",
                                                   settings.max_request_bytes);

  settings.cache_ttl = reader.ReadSeconds("CACHE_TTL_SECONDS", 0, settings.cache_ttl);
  settings.cache_max_entries = static_cast<std::size_t>(reader.ReadInteger(
      "CACHE_MAX_ENTRIES", 1, kInt64Max, static_cast<std::int64_t>(settings.cache_max_entries)));
  settings.cache_max_bytes =
      reader.ReadByteSize("CACHE_MAX_BYTES", 1, "1 byte", settings.cache_max_bytes);

  settings.rate_limit_per_minute =
      reader.ReadInteger("RATE_LIMIT_PER_MINUTE", 0, 1'000'000, settings.rate_limit_per_minute);
  settings.rate_limit_burst =
      reader.ReadInteger("RATE_LIMIT_BURST", 1, 1'000'000,
                         std::max<std::int64_t>(1, settings.rate_limit_per_minute / 6));

  settings.host = reader.ReadToken("HOST", settings.host);
  settings.port = reader.ReadPort("PORT", settings.port);
  settings.workers =
      static_cast<std::size_t>(reader.ReadInteger("WORKERS", 1, 256, DefaultWorkers()));
  ReadCors(reader, settings);
  if (settings.environment == Environment::kDevelopment) settings.cors_allow_any_origin = true;
  settings.stream_heartbeat =
      reader.ReadSeconds("STREAM_HEARTBEAT_SECONDS", 1, settings.stream_heartbeat);
  settings.shutdown_grace =
      reader.ReadSeconds("SHUTDOWN_GRACE_SECONDS", 0, settings.shutdown_grace);
  settings.shutdown_accept_delay =
      reader.ReadSeconds("SHUTDOWN_ACCEPT_DELAY_SECONDS", 0, settings.shutdown_accept_delay);

  settings.log_level = ReadLogLevel(reader);

  settings.simulator_port = reader.ReadPort("SIMULATOR_PORT", settings.simulator_port);
  settings.simulator_chunk_delay = std::chrono::milliseconds(reader.ReadInteger(
      "SIMULATOR_CHUNK_DELAY_MS", 0, 60'000, settings.simulator_chunk_delay.count()));

  if (reader.ProblemCount() != 0) throw ConfigError(reader.TakeProblems());
  return settings;
}

std::map<std::string, std::string> CollectVariables(char** environ_ptr,
                                                    const std::filesystem::path& dotenv_path) {
  std::map<std::string, std::string> variables;
  const auto contents = ReadDotenvFile(dotenv_path);
  if (!contents) {
    throw ConfigError(
        {dotenv_path.string() + ": cannot be read (" + contents.error().message() + ")"});
  }
  if (!contents->problems.empty()) {
    std::vector<std::string> problems;
    for (const auto& problem : contents->problems) {
      problems.push_back(dotenv_path.string() + " line " + std::to_string(problem.line) + ": " +
                         problem.message);
    }
    throw ConfigError(std::move(problems));
  }
  for (const auto& entry : contents->entries) variables.insert_or_assign(entry.key, entry.value);
  // The environment wins: a deployment overrides a developer's file without editing it.
  for (char** entry = environ_ptr; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    variables.insert_or_assign(std::string(text.substr(0, equals)),
                               std::string(text.substr(equals + 1)));
  }
  return variables;
}

}  // namespace cms::config
