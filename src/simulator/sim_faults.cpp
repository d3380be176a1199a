#include "simulator/sim_faults.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

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
  if (name.starts_with(kSlow)) {
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

}  // namespace cms::simulator
