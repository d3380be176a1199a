#include "simulator/sim_faults.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "simulator/sim_answer.hpp"
#include "simulator/sim_json.hpp"

namespace cms::simulator {

namespace {

constexpr std::string_view kOpen = "[[simulate:";
constexpr std::string_view kClose = "]]";
// A directive longer than this is not one (and its search stops early on huge texts).
constexpr std::size_t kMaxDirectiveLength = 64;

constexpr std::array<std::pair<std::string_view, ApiErrorKind>, 9> kErrorDirectives{{
    {"400", ApiErrorKind::kInvalidRequest},
    {"401", ApiErrorKind::kAuthentication},
    {"403", ApiErrorKind::kPermission},
    {"404", ApiErrorKind::kNotFound},
    {"413", ApiErrorKind::kRequestTooLarge},
    {"429", ApiErrorKind::kRateLimit},
    {"500", ApiErrorKind::kApi},
    {"503", ApiErrorKind::kUnavailable},
    {"529", ApiErrorKind::kOverloaded},
}};

constexpr std::array<std::pair<std::string_view, FaultOutcome>, 5> kOutcomeDirectives{{
    {"malformed", FaultOutcome::kMalformed},
    {"disconnect", FaultOutcome::kDisconnect},
    {"disconnect-mid-stream", FaultOutcome::kDisconnectMidStream},
    {"error-mid-stream", FaultOutcome::kErrorMidStream},
    {"hang", FaultOutcome::kHang},
}};

// The statuses fail-times can repeat, with the error the real API sends for each.
struct RepeatableError {
  std::string_view directive;  // As written after the count.
  unsigned status;
  std::string_view type;
  std::string_view message;
};
constexpr std::array<RepeatableError, 6> kRepeatableErrors{{
    {"429", 429, "rate_limit_error",
     "Number of request tokens has exceeded your per-minute rate limit (simulated)."},
    {"500", 500, "api_error", "Internal server error"},
    {"502", 502, "api_error", "Bad gateway"},
    {"503", 503, "api_error", "Service unavailable"},
    {"504", 504, "timeout_error", "Request timed out"},
    {"529", 529, "overloaded_error", "Overloaded"},
}};

const RepeatableError* FindRepeatableError(unsigned status) {
  for (const RepeatableError& error : kRepeatableErrors) {
    if (error.status == status) return &error;
  }
  return nullptr;
}

// "<n>:<failure>" (what follows "fail-times:"); nullopt unless both parts are valid.
std::optional<RepeatedFailure> ParseRepeatedFailure(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view count = spec.substr(0, colon);
  const std::string_view failure = spec.substr(colon + 1);
  std::uint32_t times = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), times);
  if (count.empty() || ec != std::errc{} || end != count.data() + count.size() || times == 0 ||
      times > kMaxFailTimes) {
    return std::nullopt;
  }
  if (failure == "reset") return RepeatedFailure{times, 0};
  for (const RepeatableError& error : kRepeatableErrors) {
    // Compared as text so that "0529" or "529 " are not taken for 529.
    if (failure == error.directive) return RepeatedFailure{times, error.status};
  }
  return std::nullopt;
}

// "<digits>" as milliseconds, clamped to kMaxFaultDelay; nullopt unless all digits.
std::optional<std::chrono::milliseconds> ParseDelay(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (end != digits.data() + digits.size()) return std::nullopt;
  const auto max = static_cast<std::uint64_t>(kMaxFaultDelay.count());
  if (ec == std::errc::result_out_of_range || value > max) return kMaxFaultDelay;
  if (ec != std::errc{}) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(value));
}

// "<digits>" as a byte count, clamped to kMaxBulkBytes; nullopt unless all digits and > 0.
std::optional<std::uint64_t> ParseBulkBytes(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (end != digits.data() + digits.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range || value > kMaxBulkBytes) return kMaxBulkBytes;
  if (ec != std::errc{} || value == 0) return std::nullopt;
  return value;
}

void SetOutcome(FaultPlan& plan, FaultOutcome outcome, ApiErrorKind kind = ApiErrorKind::kApi) {
  if (plan.outcome != FaultOutcome::kNone) return;  // The first outcome decides.
  plan.outcome = outcome;
  plan.error_kind = kind;
}

void ApplyDirective(std::string_view name, FaultPlan& plan) {
  for (const auto& [code, kind] : kErrorDirectives) {
    if (name == code) return SetOutcome(plan, FaultOutcome::kError, kind);
  }
  for (const auto& [word, outcome] : kOutcomeDirectives) {
    if (name == word) return SetOutcome(plan, outcome);
  }
  constexpr std::string_view kSlow = "slow:";
  constexpr std::string_view kChunkDelay = "chunk-delay:";
  constexpr std::string_view kFailTimes = "fail-times:";
  constexpr std::string_view kBulk = "bulk:";
  if (name.starts_with(kBulk)) {
    if (!plan.bulk_bytes) plan.bulk_bytes = ParseBulkBytes(name.substr(kBulk.size()));
  } else if (name.starts_with(kFailTimes)) {
    if (!plan.fail_times) plan.fail_times = ParseRepeatedFailure(name.substr(kFailTimes.size()));
  } else if (name.starts_with(kSlow)) {
    if (!plan.first_byte_delay) plan.first_byte_delay = ParseDelay(name.substr(kSlow.size()));
  } else if (name.starts_with(kChunkDelay)) {
    if (!plan.chunk_delay) plan.chunk_delay = ParseDelay(name.substr(kChunkDelay.size()));
  }
}

}  // namespace

void AddFaultDirectives(std::string_view text, FaultPlan& plan) {
  std::size_t from = 0;
  for (;;) {
    const std::size_t open = text.find(kOpen, from);
    if (open == std::string_view::npos) return;
    const std::size_t name_begin = open + kOpen.size();
    const std::string_view window = text.substr(name_begin, kMaxDirectiveLength);
    const std::size_t close = window.find(kClose);
    // No name holds '[': an opener inside the window starts the next candidate.
    const std::size_t bracket = window.find('[');
    if (close == std::string_view::npos || bracket < close) {
      from = bracket == std::string_view::npos ? name_begin : name_begin + bracket;
      continue;
    }
    ApplyDirective(text.substr(name_begin, close), plan);
    from = name_begin + close + kClose.size();
  }
}

FaultPlan PlanFaults(const SimRequest& request) {
  FaultPlan plan;
  for (const SimMessage& message : request.messages) AddFaultDirectives(message.text, plan);
  return plan;
}

std::string_view RepeatedFailureType(unsigned status) {
  const RepeatableError* error = FindRepeatableError(status);
  return error != nullptr ? error->type : "api_error";
}

std::string RenderRepeatedFailureBody(unsigned status, std::string_view request_id) {
  const RepeatableError* error = FindRepeatableError(status);
  const std::string_view type = error != nullptr ? error->type : "api_error";
  const std::string_view message = error != nullptr ? error->message : "Internal server error";
  std::string body;
  body.reserve(128 + message.size() + request_id.size());
  body.append(R"({"type":"error","error":{"type":)");
  AppendJsonString(body, type);
  body.append(R"(,"message":)");
  AppendJsonString(body, message);
  body.append(R"(},"request_id":)");
  AppendJsonString(body, request_id);
  body.push_back('}');
  return body;
}

std::uint64_t FailTimesKey(const SimRequest& request) {
  // Any fixed odd constant works: it only has to move streamed requests to other keys.
  constexpr std::uint64_t kStreamSalt = 0x9e3779b97f4a7c15ULL;
  return RequestHash(request) ^ (request.stream ? kStreamSalt : 0);
}

FailureCounter::FailureCounter(std::size_t capacity) : capacity_(capacity) {
  positions_.reserve(capacity_);
}

bool FailureCounter::CountAndCheck(std::uint64_t key, std::uint32_t times) {
  const std::lock_guard lock(mutex_);
  if (const auto it = positions_.find(key); it != positions_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    Entry& entry = *it->second;
    // Saturates instead of wrapping, so a key that stopped failing never fails again.
    if (entry.seen <= times) ++entry.seen;
    return entry.seen <= times;
  }
  if (positions_.size() >= capacity_) {
    positions_.erase(order_.back().key);
    order_.pop_back();
  }
  order_.push_front(Entry{key, 1});
  positions_.emplace(key, order_.begin());
  return times >= 1;
}

void FailureCounter::Clear() {
  const std::lock_guard lock(mutex_);
  order_.clear();
  positions_.clear();
}

std::size_t FailureCounter::Size() const {
  const std::lock_guard lock(mutex_);
  return positions_.size();
}

}  // namespace cms::simulator
