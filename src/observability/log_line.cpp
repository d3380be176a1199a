#include "observability/log_line.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace cms::observability {

namespace {

bool IsReservedKey(std::string_view key) {
  return key == kTimestampKey || key == kLevelKey || key == kEventKey || key == kRequestIdKey;
}

// A renamed field must not land on a reserved key nor on another field's own name, or one
// of the two values would silently vanish from the line.
std::string UniqueFieldKey(std::string_view key, const boost::json::object& fields) {
  std::string candidate = "field_";
  candidate.append(key);
  while (IsReservedKey(candidate) || fields.contains(candidate)) candidate.insert(0, "field_");
  return candidate;
}

}  // namespace

void AppendEvent(boost::json::object& line, LogLevel level, std::string_view event,
                 std::string_view request_id, boost::json::object fields) {
  line.reserve(line.size() + 3 + fields.size());
  line.emplace(kLevelKey, LogLevelName(level));
  line.emplace(kEventKey, event);
  if (!request_id.empty()) line.emplace(kRequestIdKey, request_id);
  for (auto& field : fields) {
    if (IsReservedKey(field.key())) {
      line.emplace(UniqueFieldKey(field.key(), fields), std::move(field.value()));
    } else {
      line.emplace(field.key(), std::move(field.value()));
    }
  }
}

std::string FormatTimestamp(std::chrono::system_clock::time_point time) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::milliseconds;
  // Calendar arithmetic in <chrono> rather than gmtime: no libc state, no locale.
  const auto since_epoch_ms = floor<milliseconds>(time.time_since_epoch());
  const auto day_start = floor<days>(since_epoch_ms);
  const std::chrono::year_month_day date{std::chrono::sys_days{day_start}};
  const std::chrono::hh_mm_ss<milliseconds> clock{since_epoch_ms - day_start};
  std::array<char, 32> buffer{};
  const int written = std::snprintf(
      buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
      static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
      static_cast<int>(clock.minutes().count()), static_cast<int>(clock.seconds().count()),
      static_cast<int>(clock.subseconds().count()));
  return std::string(buffer.data(), static_cast<std::size_t>(written));
}

}  // namespace cms::observability
