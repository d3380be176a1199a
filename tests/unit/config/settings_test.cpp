#include "config/settings.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cms::config {
namespace {

using observability::LogLevel;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Not;

using Variables = std::map<std::string, std::string>;

// A complete, valid production configuration; tests change one variable at a time.
Variables Production() {
  return {{"ENVIRONMENT", "production"},
          {"ANTHROPIC_API_KEY", "sk-ant-test-upstream"},
          {"SERVICE_API_KEY", "callers-key-1"}};
}

Variables With(Variables variables, const std::string& name, const std::string& value) {
  variables.insert_or_assign(name, value);
  return variables;
}

// The problems LoadSettings reports; fails the test when it reports none.
std::vector<std::string> ProblemsOf(const Variables& variables) {
  try {
    (void)LoadSettings(variables);
  } catch (const ConfigError& error) {
    return error.Problems();
  }
  ADD_FAILURE() << "LoadSettings accepted the variables";
  return {};
}

TEST(LoadSettingsTest, EmptyEnvironmentGivesDevelopmentDefaultsOnTheSimulator) {
  const Settings settings = LoadSettings({});
  EXPECT_EQ(settings.environment, Environment::kDevelopment);
  EXPECT_TRUE(settings.use_simulator);
  EXPECT_EQ(settings.anthropic_api_key, "");
  EXPECT_THAT(settings.service_api_keys, ElementsAre("dev-local-key"));
  EXPECT_TRUE(settings.service_key_is_development_default);
  EXPECT_EQ(settings.anthropic_base_url, "https://api.anthropic.com");
  EXPECT_EQ(settings.anthropic_version, "2023-06-01");
  EXPECT_EQ(settings.upstream_timeout, std::chrono::seconds(120));
  EXPECT_EQ(settings.upstream_connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(settings.stream_idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(settings.default_model, "claude-sonnet-4-6");
  EXPECT_EQ(settings.default_max_tokens, 1024);
  EXPECT_EQ(settings.max_tokens_limit, 8096);
  EXPECT_EQ(settings.max_request_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(settings.cache_ttl, std::chrono::seconds(300));
  EXPECT_EQ(settings.cache_max_entries, 10000u);
  EXPECT_EQ(settings.cache_max_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(settings.rate_limit_per_minute, 0);
  EXPECT_EQ(settings.rate_limit_burst, 1);
  EXPECT_EQ(settings.host, "0.0.0.0");
  EXPECT_EQ(settings.port, 8000);
  const std::size_t cores = std::thread::hardware_concurrency();
  EXPECT_EQ(settings.workers, std::clamp<std::size_t>(cores, 1, 256));
  EXPECT_TRUE(settings.cors_allow_origins.empty());
  EXPECT_TRUE(settings.cors_allow_any_origin);  // Development allows every origin.
  EXPECT_EQ(settings.stream_heartbeat, std::chrono::seconds(15));
  EXPECT_EQ(settings.shutdown_grace, std::chrono::seconds(30));
  EXPECT_EQ(settings.log_level, LogLevel::kInfo);
  EXPECT_EQ(settings.simulator_port, 0);
  EXPECT_EQ(settings.simulator_chunk_delay, std::chrono::milliseconds(20));
}

TEST(LoadSettingsTest, ReadsEveryVariable) {
  const Settings settings = LoadSettings({
      {"ENVIRONMENT", "staging"},
      {"ANTHROPIC_API_KEY", "  sk-ant-x  "},
      {"SERVICE_API_KEY", "new-key, old-key"},
      {"ANTHROPIC_BASE_URL", "http://127.0.0.1:9100/"},
      {"ANTHROPIC_VERSION", "2024-01-01"},
      {"UPSTREAM_TIMEOUT_SECONDS", "30"},
      {"UPSTREAM_CONNECT_TIMEOUT_SECONDS", "3"},
      {"STREAM_IDLE_TIMEOUT_SECONDS", "45"},
      {"DEFAULT_MODEL", "claude-haiku-4-5"},
      {"DEFAULT_MAX_TOKENS", "512"},
      {"MAX_TOKENS_LIMIT", "4096"},
      {"MAX_REQUEST_BYTES", "1 MiB"},
      {"CACHE_TTL_SECONDS", "0"},
      {"CACHE_MAX_ENTRIES", "50"},
      {"CACHE_MAX_BYTES", "64KiB"},
      {"RATE_LIMIT_PER_MINUTE", "120"},
      {"RATE_LIMIT_BURST", "5"},
      {"HOST", "127.0.0.1"},
      {"PORT", "0"},
      {"WORKERS", "3"},
      {"CORS_ALLOW_ORIGINS", "https://App.Example.com, http://localhost:3000"},
      {"STREAM_HEARTBEAT_SECONDS", "5"},
      {"SHUTDOWN_GRACE_SECONDS", "0"},
      {"LOG_LEVEL", "warn"},
      {"SIMULATOR_PORT", "9100"},
      {"SIMULATOR_CHUNK_DELAY_MS", "0"},
      {"SOMETHING_ELSE", "ignored"},
  });
  EXPECT_EQ(settings.environment, Environment::kStaging);
  EXPECT_FALSE(settings.use_simulator);
  EXPECT_EQ(settings.anthropic_api_key, "sk-ant-x");
  EXPECT_THAT(settings.service_api_keys, ElementsAre("new-key", "old-key"));
  EXPECT_FALSE(settings.service_key_is_development_default);
  EXPECT_EQ(settings.anthropic_base_url, "http://127.0.0.1:9100");
  EXPECT_EQ(settings.anthropic_version, "2024-01-01");
  EXPECT_EQ(settings.upstream_timeout, std::chrono::seconds(30));
  EXPECT_EQ(settings.upstream_connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(settings.stream_idle_timeout, std::chrono::seconds(45));
  EXPECT_EQ(settings.default_model, "claude-haiku-4-5");
  EXPECT_EQ(settings.default_max_tokens, 512);
  EXPECT_EQ(settings.max_tokens_limit, 4096);
  EXPECT_EQ(settings.max_request_bytes, 1024u * 1024);
  EXPECT_EQ(settings.cache_ttl, std::chrono::seconds(0));
  EXPECT_EQ(settings.cache_max_entries, 50u);
  EXPECT_EQ(settings.cache_max_bytes, 64u * 1024);
  EXPECT_EQ(settings.rate_limit_per_minute, 120);
  EXPECT_EQ(settings.rate_limit_burst, 5);
  EXPECT_EQ(settings.host, "127.0.0.1");
  EXPECT_EQ(settings.port, 0);
  EXPECT_EQ(settings.workers, 3u);
  EXPECT_THAT(settings.cors_allow_origins,
              ElementsAre("https://app.example.com", "http://localhost:3000"));
  EXPECT_FALSE(settings.cors_allow_any_origin);
  EXPECT_EQ(settings.stream_heartbeat, std::chrono::seconds(5));
  EXPECT_EQ(settings.shutdown_grace, std::chrono::seconds(0));
  EXPECT_EQ(settings.log_level, LogLevel::kWarning);
  EXPECT_EQ(settings.simulator_port, 9100);
  EXPECT_EQ(settings.simulator_chunk_delay, std::chrono::milliseconds(0));
}

TEST(LoadSettingsTest, AcceptsBoundaries) {
  const Settings low = LoadSettings(With(
      With(
          With(With(With(With(Production(), "PORT", "0"), "WORKERS", "1"), "MAX_TOKENS_LIMIT", "1"),
               "DEFAULT_MAX_TOKENS", "1"),
          "MAX_REQUEST_BYTES", "1024"),
      "UPSTREAM_TIMEOUT_SECONDS", "1"));
  EXPECT_EQ(low.port, 0);
  EXPECT_EQ(low.workers, 1u);
  EXPECT_EQ(low.max_tokens_limit, 1);
  EXPECT_EQ(low.default_max_tokens, 1);
  EXPECT_EQ(low.max_request_bytes, 1024u);
  EXPECT_EQ(low.upstream_timeout, std::chrono::seconds(1));

  const Settings high =
      LoadSettings(With(With(With(With(Production(), "PORT", "65535"), "WORKERS", "256"),
                             "MAX_TOKENS_LIMIT", "1000000"),
                        "DEFAULT_MAX_TOKENS", "1000000"));
  EXPECT_EQ(high.port, 65535);
  EXPECT_EQ(high.workers, 256u);
  EXPECT_EQ(high.max_tokens_limit, 1'000'000);
  EXPECT_EQ(high.default_max_tokens, 1'000'000);
}

TEST(LoadSettingsTest, UpstreamConnectionSettingsHaveDefaultsAndBounds) {
  const Settings defaults = LoadSettings(Production());
  EXPECT_EQ(defaults.upstream_keepalive_connections, 256);
  EXPECT_EQ(defaults.upstream_max_retries, 2);
  EXPECT_EQ(defaults.upstream_retry_base_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(defaults.max_concurrent_upstream, 0);
  EXPECT_EQ(defaults.upstream_queue_max, 0);
  EXPECT_EQ(defaults.upstream_queue_timeout, std::chrono::milliseconds(5000));

  const Settings low = LoadSettings(With(
      With(With(Production(), "UPSTREAM_KEEPALIVE_CONNECTIONS", "0"), "UPSTREAM_MAX_RETRIES", "0"),
      "UPSTREAM_QUEUE_TIMEOUT_MS", "0"));
  EXPECT_EQ(low.upstream_keepalive_connections, 0);
  EXPECT_EQ(low.upstream_max_retries, 0);
  EXPECT_EQ(low.upstream_queue_timeout, std::chrono::milliseconds(0));

  const Settings high =
      LoadSettings(With(With(With(Production(), "UPSTREAM_KEEPALIVE_CONNECTIONS", "100000"),
                             "UPSTREAM_MAX_RETRIES", "10"),
                        "MAX_CONCURRENT_UPSTREAM", "1000000"));
  EXPECT_EQ(high.upstream_keepalive_connections, 100'000);
  EXPECT_EQ(high.upstream_max_retries, 10);
  EXPECT_EQ(high.max_concurrent_upstream, 1'000'000);
}

TEST(LoadSettingsTest, TrimsBlanksAroundIntegers) {
  EXPECT_EQ(LoadSettings(With(Production(), "PORT", " 8080 ")).port, 8080);
}

struct BadCase {
  std::string name;
  std::string variable;
  std::string value;
  std::string problem;
};

class BadVariableTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadVariableTest, ReportsExactlyOneProblemNamingTheVariable) {
  const auto problems = ProblemsOf(With(Production(), GetParam().variable, GetParam().value));
  EXPECT_THAT(problems, ElementsAre(GetParam().problem));
}

INSTANTIATE_TEST_SUITE_P(
    Variables, BadVariableTest,
    testing::Values(
        BadCase{"EnvironmentUnknown", "ENVIRONMENT", "prod",
                "ENVIRONMENT: must be one of development, staging, production, got \"prod\""},
        BadCase{"PortText", "PORT", "abc", "PORT: must be an integer from 0 to 65535, got \"abc\""},
        BadCase{"PortTooBig", "PORT", "65536",
                "PORT: must be an integer from 0 to 65535, got \"65536\""},
        BadCase{"PortNegative", "PORT", "-1",
                "PORT: must be an integer from 0 to 65535, got \"-1\""},
        BadCase{"PortPlusSign", "PORT", "+80",
                "PORT: must be an integer from 0 to 65535, got \"+80\""},
        BadCase{"PortHex", "PORT", "0x50",
                "PORT: must be an integer from 0 to 65535, got \"0x50\""},
        BadCase{"PortEmpty", "PORT", "", "PORT: must be an integer from 0 to 65535, got \"\""},
        BadCase{"PortOverflow", "PORT", "99999999999999999999",
                "PORT: must be an integer from 0 to 65535, got \"99999999999999999999\""},
        BadCase{"WorkersZero", "WORKERS", "0",
                "WORKERS: must be an integer from 1 to 256, got \"0\""},
        BadCase{"WorkersTooMany", "WORKERS", "257",
                "WORKERS: must be an integer from 1 to 256, got \"257\""},
        BadCase{"MaxTokensLimitZero", "MAX_TOKENS_LIMIT", "0",
                "MAX_TOKENS_LIMIT: must be an integer from 1 to 1000000, got \"0\""},
        BadCase{"MaxTokensLimitTooBig", "MAX_TOKENS_LIMIT", "1000001",
                "MAX_TOKENS_LIMIT: must be an integer from 1 to 1000000, got \"1000001\""},
        BadCase{"DefaultMaxTokensZero", "DEFAULT_MAX_TOKENS", "0",
                "DEFAULT_MAX_TOKENS: must be an integer from 1 to 8096 (MAX_TOKENS_LIMIT), got "
                "\"0\""},
        BadCase{"DefaultMaxTokensAboveLimit", "DEFAULT_MAX_TOKENS", "8097",
                "DEFAULT_MAX_TOKENS: must be an integer from 1 to 8096 (MAX_TOKENS_LIMIT), got "
                "\"8097\""},
        BadCase{"CacheTtlNegative", "CACHE_TTL_SECONDS", "-5",
                "CACHE_TTL_SECONDS: must be an integer from 0 to 31536000, got \"-5\""},
        BadCase{"CacheTtlFraction", "CACHE_TTL_SECONDS", "1.5",
                "CACHE_TTL_SECONDS: must be an integer from 0 to 31536000, got \"1.5\""},
        BadCase{"CacheMaxEntriesZero", "CACHE_MAX_ENTRIES", "0",
                "CACHE_MAX_ENTRIES: must be an integer >= 1, got \"0\""},
        BadCase{"CacheMaxBytesText", "CACHE_MAX_BYTES", "lots",
                "CACHE_MAX_BYTES: must be a size in bytes, optionally with a KiB, MiB or GiB "
                "suffix (e.g. 256MiB), got \"lots\""},
        BadCase{"CacheMaxBytesTerabytes", "CACHE_MAX_BYTES", "1TiB",
                "CACHE_MAX_BYTES: must be a size in bytes, optionally with a KiB, MiB or GiB "
                "suffix (e.g. 256MiB), got \"1TiB\""},
        BadCase{"CacheMaxBytesZero", "CACHE_MAX_BYTES", "0",
                "CACHE_MAX_BYTES: must be at least 1 byte, got \"0\""},
        BadCase{"MaxRequestBytesTooSmall", "MAX_REQUEST_BYTES", "1023",
                "MAX_REQUEST_BYTES: must be at least 1 KiB (1024 bytes), got \"1023\""},
        BadCase{"UpstreamTimeoutZero", "UPSTREAM_TIMEOUT_SECONDS", "0",
                "UPSTREAM_TIMEOUT_SECONDS: must be an integer from 1 to 31536000, got \"0\""},
        BadCase{"ConnectTimeoutZero", "UPSTREAM_CONNECT_TIMEOUT_SECONDS", "0",
                "UPSTREAM_CONNECT_TIMEOUT_SECONDS: must be an integer from 1 to 31536000, got "
                "\"0\""},
        BadCase{"StreamIdleZero", "STREAM_IDLE_TIMEOUT_SECONDS", "0",
                "STREAM_IDLE_TIMEOUT_SECONDS: must be an integer from 1 to 31536000, got \"0\""},
        BadCase{"KeepaliveAboveBound", "UPSTREAM_KEEPALIVE_CONNECTIONS", "100001",
                "UPSTREAM_KEEPALIVE_CONNECTIONS: must be an integer from 0 to 100000, got "
                "\"100001\""},
        BadCase{"KeepaliveNegative", "UPSTREAM_KEEPALIVE_CONNECTIONS", "-1",
                "UPSTREAM_KEEPALIVE_CONNECTIONS: must be an integer from 0 to 100000, got \"-1\""},
        BadCase{"RetriesAboveBound", "UPSTREAM_MAX_RETRIES", "11",
                "UPSTREAM_MAX_RETRIES: must be an integer from 0 to 10, got \"11\""},
        BadCase{"HeartbeatZero", "STREAM_HEARTBEAT_SECONDS", "0",
                "STREAM_HEARTBEAT_SECONDS: must be an integer from 1 to 31536000, got \"0\""},
        BadCase{"GraceNegative", "SHUTDOWN_GRACE_SECONDS", "-1",
                "SHUTDOWN_GRACE_SECONDS: must be an integer from 0 to 31536000, got \"-1\""},
        BadCase{"TimeoutAboveAYear", "UPSTREAM_TIMEOUT_SECONDS", "31536001",
                "UPSTREAM_TIMEOUT_SECONDS: must be an integer from 1 to 31536000, got "
                "\"31536001\""},
        BadCase{"LogLevel", "LOG_LEVEL", "verbose",
                "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, got \"verbose\""},
        BadCase{"BaseUrlNotAUrl", "ANTHROPIC_BASE_URL", "api.anthropic.com",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"api.anthropic.com\""},
        BadCase{"BaseUrlScheme", "ANTHROPIC_BASE_URL", "ftp://h",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"ftp://h\""},
        BadCase{"BaseUrlNoHost", "ANTHROPIC_BASE_URL", "http:///path",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"http:///path\""},
        BadCase{"BaseUrlQuery", "ANTHROPIC_BASE_URL", "https://h/?x=1",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"https://h/?x=1\""},
        BadCase{"BaseUrlFragment", "ANTHROPIC_BASE_URL", "https://h/#f",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"https://h/#f\""},
        BadCase{"BaseUrlBadPort", "ANTHROPIC_BASE_URL", "http://h:99999",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"http://h:99999\""},
        BadCase{"BaseUrlPortJustTooBig", "ANTHROPIC_BASE_URL", "http://h:65536",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"http://h:65536\""},
        BadCase{"BaseUrlPortZero", "ANTHROPIC_BASE_URL", "http://h:0",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"http://h:0\""},
        BadCase{"BaseUrlEmptyPort", "ANTHROPIC_BASE_URL", "http://h:/",
                "ANTHROPIC_BASE_URL: must be an absolute http:// or https:// URL with a host and "
                "no query or fragment, got \"http://h:/\""},
        BadCase{"CorsBadPort", "CORS_ALLOW_ORIGINS", "http://a.com:99999",
                "CORS_ALLOW_ORIGINS: must be a comma list of * or scheme://host[:port] origins "
                "with no path; not an origin: \"http://a.com:99999\""},
        BadCase{"CorsCredentials", "CORS_ALLOW_ORIGINS", "https://u@a.com",
                "CORS_ALLOW_ORIGINS: must be a comma list of * or scheme://host[:port] origins "
                "with no path; not an origin: \"https://u@a.com\""},
        BadCase{"BaseUrlCredentials", "ANTHROPIC_BASE_URL", "https://user:hunter2@h",
                "ANTHROPIC_BASE_URL: must not contain credentials (user:password@)"},
        BadCase{"AnthropicVersionEmpty", "ANTHROPIC_VERSION", "",
                "ANTHROPIC_VERSION: must not be empty, got \"\""},
        BadCase{"HostEmpty", "HOST", "", "HOST: must not be empty, got \"\""},
        BadCase{"HostBlank", "HOST", "local host",
                "HOST: must not contain blanks or control characters, got \"local host\""},
        BadCase{"DefaultModelEmpty", "DEFAULT_MODEL", "",
                "DEFAULT_MODEL: must not be empty, got \"\""},
        BadCase{"CorsPath", "CORS_ALLOW_ORIGINS", "https://a.com, https://b.com/app, nope",
                "CORS_ALLOW_ORIGINS: must be a comma list of * or scheme://host[:port] origins "
                "with no path; not an origin: \"https://b.com/app\", \"nope\""},
        BadCase{"CorsTrailingSlash", "CORS_ALLOW_ORIGINS", "https://a.com/",
                "CORS_ALLOW_ORIGINS: must be a comma list of * or scheme://host[:port] origins "
                "with no path; not an origin: \"https://a.com/\""},
        BadCase{"RateLimitNegative", "RATE_LIMIT_PER_MINUTE", "-1",
                "RATE_LIMIT_PER_MINUTE: must be an integer from 0 to 1000000, got \"-1\""},
        BadCase{"RateLimitBurstZero", "RATE_LIMIT_BURST", "0",
                "RATE_LIMIT_BURST: must be an integer from 1 to 1000000, got \"0\""},
        BadCase{"SimulatorPort", "SIMULATOR_PORT", "70000",
                "SIMULATOR_PORT: must be an integer from 0 to 65535, got \"70000\""},
        BadCase{"SimulatorChunkDelay", "SIMULATOR_CHUNK_DELAY_MS", "60001",
                "SIMULATOR_CHUNK_DELAY_MS: must be an integer from 0 to 60000, got \"60001\""},
        BadCase{"AnthropicKeyBlankInside", "ANTHROPIC_API_KEY", "sk-ant s3cr3t",
                "ANTHROPIC_API_KEY: must not contain blanks or control characters"},
        BadCase{"ServiceKeyEmptyItem", "SERVICE_API_KEY", "s3cr3t,,other",
                "SERVICE_API_KEY: contains an empty key (check the commas)"},
        BadCase{"ServiceKeyControlCharacter", "SERVICE_API_KEY", "s3c\x01r3t",
                "SERVICE_API_KEY: keys must not contain blanks or control characters"},
        BadCase{"ServiceKeyDevelopmentDefault", "SERVICE_API_KEY", "real-key,dev-local-key",
                "SERVICE_API_KEY: the documented development key dev-local-key is not allowed "
                "in production"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(LoadSettingsTest, ReportsEveryBadVariableAtOnceInAStableOrder) {
  Variables variables = Production();
  variables["PORT"] = "http";
  variables["WORKERS"] = "many";
  variables["LOG_LEVEL"] = "loud";
  variables["CACHE_MAX_BYTES"] = "256 XB";
  variables["SERVICE_API_KEY"] = "";
  try {
    (void)LoadSettings(variables);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_THAT(
        error.Problems(),
        ElementsAre(
            "SERVICE_API_KEY: required unless the service runs on its built-in simulator "
            "(development without ANTHROPIC_API_KEY)",
            "CACHE_MAX_BYTES: must be a size in bytes, optionally with a KiB, MiB or GiB suffix "
            "(e.g. 256MiB), got \"256 XB\"",
            "PORT: must be an integer from 0 to 65535, got \"http\"",
            "WORKERS: must be an integer from 1 to 256, got \"many\"",
            "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, got \"loud\""));
    // what() is the same list, one line each.
    std::string joined;
    for (const auto& problem : error.Problems()) joined += (joined.empty() ? "" : "\n") + problem;
    EXPECT_EQ(std::string(error.what()), joined);
  }
}

TEST(LoadSettingsTest, QuotesOddValuesSafelyAndShortensLongOnes) {
  EXPECT_THAT(ProblemsOf(With(Production(), "PORT", "8\"0\x1b[2J\n")),
              ElementsAre("PORT: must be an integer from 0 to 65535, got \"8\\\"0\\x1B[2J\\x0A\""));
  const auto problems = ProblemsOf(With(Production(), "PORT", std::string(500, '9')));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "PORT: must be an integer from 0 to 65535, got \"" + std::string(80, '9') + "...\"");
}

TEST(LoadSettingsTest, NeverRepeatsTheValueOfAKeyVariable) {
  for (const std::string bad :
       {"sk-ant-SECRET-1 x", "\tsk-ant-SECRET-2\x01", "sk-ant-SECRET-3,,sk-ant-SECRET-4",
        "sk-ant-SECRET-5,dev-local-key"}) {
    Variables variables = Production();
    variables["ANTHROPIC_API_KEY"] = bad;
    variables["SERVICE_API_KEY"] = bad;
    try {
      (void)LoadSettings(variables);
      FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
      EXPECT_THAT(std::string(error.what()), Not(HasSubstr("SECRET")));
      for (const auto& problem : error.Problems()) EXPECT_THAT(problem, Not(HasSubstr("SECRET")));
    }
  }
}

TEST(LoadSettingsTest, ChecksTheDefaultMaxTokensAgainstALowerLimit) {
  EXPECT_THAT(ProblemsOf(With(Production(), "MAX_TOKENS_LIMIT", "500")),
              ElementsAre("DEFAULT_MAX_TOKENS: the default 1024 is above MAX_TOKENS_LIMIT 500; "
                          "set DEFAULT_MAX_TOKENS to at most 500"));
  const Settings settings = LoadSettings(
      With(With(Production(), "MAX_TOKENS_LIMIT", "500"), "DEFAULT_MAX_TOKENS", "500"));
  EXPECT_EQ(settings.default_max_tokens, 500);
}

TEST(LoadSettingsTest, ABadLimitDoesNotAlsoBlameTheDefault) {
  EXPECT_THAT(ProblemsOf(With(With(Production(), "MAX_TOKENS_LIMIT", "lots"), "DEFAULT_MAX_TOKENS",
                              "9000")),
              ElementsAre("MAX_TOKENS_LIMIT: must be an integer from 1 to 1000000, got \"lots\""));
}

// --- ANTHROPIC_API_KEY and SERVICE_API_KEY per environment ---------------------------------

TEST(ApiKeyRulesTest, DevelopmentWithoutAnthropicKeyUsesTheSimulatorAndTheDevelopmentKey) {
  for (const Variables& variables :
       {Variables{}, Variables{{"ENVIRONMENT", "development"}, {"ANTHROPIC_API_KEY", ""}},
        Variables{{"ANTHROPIC_API_KEY", "   "}}}) {
    const Settings settings = LoadSettings(variables);
    EXPECT_TRUE(settings.use_simulator);
    EXPECT_THAT(settings.service_api_keys, ElementsAre("dev-local-key"));
    EXPECT_TRUE(settings.service_key_is_development_default);
  }
}

TEST(ApiKeyRulesTest, DevelopmentSimulatorKeepsAnExplicitServiceKey) {
  const Settings settings = LoadSettings({{"SERVICE_API_KEY", "mine"}});
  EXPECT_TRUE(settings.use_simulator);
  EXPECT_THAT(settings.service_api_keys, ElementsAre("mine"));
  EXPECT_FALSE(settings.service_key_is_development_default);
}

TEST(ApiKeyRulesTest, DevelopmentWithAnthropicKeyRequiresAServiceKey) {
  EXPECT_THAT(ProblemsOf({{"ANTHROPIC_API_KEY", "sk-ant-x"}}),
              ElementsAre("SERVICE_API_KEY: required unless the service runs on its built-in "
                          "simulator (development without ANTHROPIC_API_KEY)"));
  const Settings settings =
      LoadSettings({{"ANTHROPIC_API_KEY", "sk-ant-x"}, {"SERVICE_API_KEY", "k"}});
  EXPECT_FALSE(settings.use_simulator);
  EXPECT_EQ(settings.anthropic_api_key, "sk-ant-x");
}

TEST(ApiKeyRulesTest, DevelopmentMayUseTheDevelopmentKeyExplicitly) {
  const Settings settings =
      LoadSettings({{"ANTHROPIC_API_KEY", "sk-ant-x"}, {"SERVICE_API_KEY", "dev-local-key"}});
  EXPECT_THAT(settings.service_api_keys, ElementsAre("dev-local-key"));
  EXPECT_FALSE(settings.service_key_is_development_default);
}

class DeployedEnvironmentTest : public testing::TestWithParam<std::string> {};

TEST_P(DeployedEnvironmentTest, RequiresBothKeys) {
  EXPECT_THAT(ProblemsOf({{"ENVIRONMENT", GetParam()}}),
              ElementsAre("ANTHROPIC_API_KEY: required in " + GetParam(),
                          "SERVICE_API_KEY: required unless the service runs on its built-in "
                          "simulator (development without ANTHROPIC_API_KEY)"));
  EXPECT_THAT(
      ProblemsOf(
          {{"ENVIRONMENT", GetParam()}, {"ANTHROPIC_API_KEY", ""}, {"SERVICE_API_KEY", "k"}}),
      ElementsAre("ANTHROPIC_API_KEY: required in " + GetParam()));
}

TEST_P(DeployedEnvironmentTest, NeverUsesTheSimulatorAndHonoursTheCorsList) {
  const Settings settings = LoadSettings({{"ENVIRONMENT", GetParam()},
                                          {"ANTHROPIC_API_KEY", "sk-ant-x"},
                                          {"SERVICE_API_KEY", "k"},
                                          {"CORS_ALLOW_ORIGINS", "https://a.com"}});
  EXPECT_FALSE(settings.use_simulator);
  EXPECT_FALSE(settings.service_key_is_development_default);
  EXPECT_FALSE(settings.cors_allow_any_origin);
  EXPECT_THAT(settings.cors_allow_origins, ElementsAre("https://a.com"));
}

INSTANTIATE_TEST_SUITE_P(Environments, DeployedEnvironmentTest,
                         testing::Values("staging", "production"));

TEST(ApiKeyRulesTest, UnknownEnvironmentDoesNotGuessKeyRules) {
  EXPECT_THAT(ProblemsOf({{"ENVIRONMENT", "qa"}}),
              ElementsAre("ENVIRONMENT: must be one of development, staging, production, got "
                          "\"qa\""));
}

TEST(ApiKeyRulesTest, ServiceKeysAreTrimmedAndDeduplicatedInOrder) {
  const Settings settings = LoadSettings(With(Production(), "SERVICE_API_KEY", " b , a,b "));
  EXPECT_THAT(settings.service_api_keys, ElementsAre("b", "a"));
}

TEST(LoadSettingsTest, EnvironmentNameIsCaseInsensitive) {
  EXPECT_EQ(LoadSettings(With(Production(), "ENVIRONMENT", "Production")).environment,
            Environment::kProduction);
}

// --- Sizes, URLs, CORS, rate limits --------------------------------------------------------

struct SizeCase {
  std::string_view text;
  std::optional<std::size_t> bytes;
};

class ParseByteSizeTest : public testing::TestWithParam<SizeCase> {};

TEST_P(ParseByteSizeTest, ParsesPowersOf1024) {
  EXPECT_EQ(ParseByteSize(GetParam().text), GetParam().bytes) << GetParam().text;
}

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;
constexpr std::size_t kGiB = 1024 * kMiB;

INSTANTIATE_TEST_SUITE_P(
    Sizes, ParseByteSizeTest,
    testing::Values(SizeCase{"8388608", 8 * kMiB}, SizeCase{"0", 0}, SizeCase{"12B", 12},
                    SizeCase{"256MiB", 256 * kMiB}, SizeCase{"256 MiB", 256 * kMiB},
                    SizeCase{" 256 mib ", 256 * kMiB}, SizeCase{"256MB", 256 * kMiB},
                    SizeCase{"256M", 256 * kMiB}, SizeCase{"256m", 256 * kMiB},
                    SizeCase{"1KiB", kKiB}, SizeCase{"1K", kKiB}, SizeCase{"1kb", kKiB},
                    SizeCase{"2GiB", 2 * kGiB}, SizeCase{"2G", 2 * kGiB}, SizeCase{"2GB", 2 * kGiB},
                    SizeCase{"", std::nullopt}, SizeCase{"MiB", std::nullopt},
                    SizeCase{"1.5MiB", std::nullopt}, SizeCase{"-1", std::nullopt},
                    SizeCase{"1 TiB", std::nullopt}, SizeCase{"1 MiBs", std::nullopt},
                    SizeCase{"1 2", std::nullopt},
                    SizeCase{"18446744073709551615", 18446744073709551615ULL},
                    SizeCase{"18446744073709551616", std::nullopt},
                    SizeCase{"17179869184GiB", std::nullopt}));

TEST(LoadSettingsTest, AcceptsSizeSuffixesInVariables) {
  const Settings settings = LoadSettings(
      With(With(Production(), "CACHE_MAX_BYTES", "512 MiB"), "MAX_REQUEST_BYTES", "1KiB"));
  EXPECT_EQ(settings.cache_max_bytes, 512 * kMiB);
  EXPECT_EQ(settings.max_request_bytes, kKiB);
}

TEST(LoadSettingsTest, NormalizesTheBaseUrl) {
  const auto base_url = [](const std::string& value) {
    return LoadSettings(With(Production(), "ANTHROPIC_BASE_URL", value)).anthropic_base_url;
  };
  EXPECT_EQ(base_url("https://api.anthropic.com/"), "https://api.anthropic.com");
  EXPECT_EQ(base_url("http://127.0.0.1:9100"), "http://127.0.0.1:9100");
  EXPECT_EQ(base_url("HTTP://localhost:9100//"), "HTTP://localhost:9100");
  EXPECT_EQ(base_url("https://gateway.example.com/anthropic/"),
            "https://gateway.example.com/anthropic");
  EXPECT_EQ(base_url("http://[::1]:9100"), "http://[::1]:9100");
  EXPECT_EQ(base_url("http://localhost:65535"), "http://localhost:65535");
}

TEST(LoadSettingsTest, NormalizesCorsOriginsAndAcceptsAStar) {
  const Settings settings =
      LoadSettings(With(Production(), "CORS_ALLOW_ORIGINS",
                        "HTTPS://App.Example.COM:443, http://localhost:80, http://localhost:3000,, "
                        "https://app.example.com, chrome-extension://abcdef"));
  EXPECT_THAT(settings.cors_allow_origins,
              ElementsAre("https://app.example.com", "http://localhost", "http://localhost:3000",
                          "chrome-extension://abcdef"));
  EXPECT_FALSE(settings.cors_allow_any_origin);

  const Settings star = LoadSettings(With(Production(), "CORS_ALLOW_ORIGINS", "https://a.com, *"));
  EXPECT_TRUE(star.cors_allow_any_origin);
  EXPECT_THAT(star.cors_allow_origins, ElementsAre("https://a.com"));
}

TEST(LoadSettingsTest, RateLimitBurstDefaultsToTenSecondsWorth) {
  const auto burst = [](const std::string& rate) {
    return LoadSettings(With(Production(), "RATE_LIMIT_PER_MINUTE", rate)).rate_limit_burst;
  };
  EXPECT_EQ(burst("0"), 1);
  EXPECT_EQ(burst("5"), 1);
  EXPECT_EQ(burst("6"), 1);
  EXPECT_EQ(burst("60"), 10);
  EXPECT_EQ(burst("600"), 100);
  EXPECT_EQ(LoadSettings(
                With(With(Production(), "RATE_LIMIT_PER_MINUTE", "60"), "RATE_LIMIT_BURST", "25"))
                .rate_limit_burst,
            25);
}

TEST(EnvironmentNameTest, RoundTrips) {
  for (const auto environment :
       {Environment::kDevelopment, Environment::kStaging, Environment::kProduction}) {
    EXPECT_EQ(ParseEnvironment(EnvironmentName(environment)), environment);
  }
  EXPECT_EQ(EnvironmentName(Environment::kStaging), "staging");
  EXPECT_EQ(ParseEnvironment("prod"), std::nullopt);
  EXPECT_EQ(ParseEnvironment(""), std::nullopt);
}

// --- CollectVariables ----------------------------------------------------------------------

class CollectVariablesTest : public testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::path(testing::TempDir()) /
        ("collect_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path WriteDotenv(const std::string& text) {
    auto path = directory_ / ".env";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path directory_;
};

TEST_F(CollectVariablesTest, EnvironmentBeatsDotenvAndLastFileAssignmentWins) {
  const auto path = WriteDotenv("PORT=9000\nLOG_LEVEL=DEBUG\nLOG_LEVEL=ERROR\nONLY_FILE=f\n");
  std::string port = "PORT=8123";
  std::string only_env = "ONLY_ENV=a=b";
  std::string no_equals = "MALFORMED";
  std::string empty_name = "=x";
  std::vector<char*> environ_entries{port.data(), only_env.data(), no_equals.data(),
                                     empty_name.data(), nullptr};

  const auto variables = CollectVariables(environ_entries.data(), path);
  EXPECT_EQ(
      variables,
      (std::map<std::string, std::string>{
          {"PORT", "8123"}, {"LOG_LEVEL", "ERROR"}, {"ONLY_FILE", "f"}, {"ONLY_ENV", "a=b"}}));
  EXPECT_EQ(LoadSettings(variables).port, 8123);
}

TEST_F(CollectVariablesTest, EmptyEnvironmentValueStillOverridesTheFile) {
  const auto path = WriteDotenv("DEFAULT_MODEL=claude-x\n");
  std::string model = "DEFAULT_MODEL=";
  std::vector<char*> environ_entries{model.data(), nullptr};
  EXPECT_EQ(CollectVariables(environ_entries.data(), path).at("DEFAULT_MODEL"), "");
}

TEST_F(CollectVariablesTest, TheRepositoryEnvExampleLoadsAsDevelopmentOnTheSimulator) {
  const auto example =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / ".env.example";
  ASSERT_TRUE(std::filesystem::exists(example)) << example;
  const Settings settings = LoadSettings(CollectVariables(nullptr, example));
  EXPECT_EQ(settings.environment, Environment::kDevelopment);
  EXPECT_TRUE(settings.use_simulator);
  EXPECT_TRUE(settings.service_key_is_development_default);
  EXPECT_EQ(settings.cache_ttl, std::chrono::seconds(300));  // "300   # comment" is 300.
  EXPECT_EQ(settings.cache_max_bytes, 256u * 1024 * 1024);
  EXPECT_TRUE(settings.cors_allow_origins.empty());
}

TEST_F(CollectVariablesTest, MissingDotenvMeansEnvironmentOnly) {
  std::string port = "PORT=1";
  std::vector<char*> environ_entries{port.data(), nullptr};
  EXPECT_EQ(CollectVariables(environ_entries.data(), directory_ / "absent.env"),
            (std::map<std::string, std::string>{{"PORT", "1"}}));
  EXPECT_TRUE(CollectVariables(nullptr, directory_ / "absent.env").empty());
}

TEST_F(CollectVariablesTest, MalformedDotenvListsEveryBadLineWithoutValues) {
  const auto path = WriteDotenv("OK=1\nsk-ant-SECRET\nANTHROPIC_API_KEY=\"SECRET\n");
  try {
    (void)CollectVariables(nullptr, path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.Problems(),
                ElementsAre(path.string() + " line 2: expected KEY=VALUE",
                            path.string() +
                                " line 3: unterminated double-quoted value for ANTHROPIC_API_KEY"));
    EXPECT_THAT(std::string(error.what()), Not(HasSubstr("SECRET")));
  }
}

TEST_F(CollectVariablesTest, UnreadableDotenvIsAnError) {
  const auto path = directory_ / "dir.env";
  std::filesystem::create_directory(path);
  try {
    (void)CollectVariables(nullptr, path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.Problems().size(), 1u);
    EXPECT_THAT(error.Problems()[0], HasSubstr(path.string() + ": cannot be read ("));
  }
}

}  // namespace
}  // namespace cms::config
