#include "observability/log_line.hpp"

#include <algorithm>
#include <array>

namespace cms::observability {

namespace {

bool IsReservedKey(std::string_view key) {
  return key == kTimestampKey || key == kLevelKey || key == kEventKey || key == kRequestIdKey;
}

bool IsFieldKey(LogFields fields, std::string_view key) {
  return std::any_of(fields.begin(), fields.end(),
                     [key](const LogField& field) { return field.key == key; });
}

// Writes `value` as exactly `width` decimal digits at `out`.
void PutDigits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::optional<std::string_view> LineFieldKey(LogFields fields, std::size_t index,
                                             std::string& scratch) {
  const std::string_view key = fields[index].key;
  if (IsFieldKey(fields.first(index), key)) return std::nullopt;
  if (!IsReservedKey(key)) return key;
  scratch.assign("field_").append(key);
  while (IsReservedKey(scratch) || IsFieldKey(fields, scratch)) scratch.insert(0, "field_");
  return std::string_view(scratch);
}

void AppendTimestamp(std::string& out, std::chrono::system_clock::time_point time) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::milliseconds;
  // Calendar arithmetic in <chrono> rather than gmtime: no libc state, no locale.
  const auto since_epoch_ms = floor<milliseconds>(time.time_since_epoch());
  const auto day_start = floor<days>(since_epoch_ms);
  const std::chrono::year_month_day date{std::chrono::sys_days{day_start}};
  const std::chrono::hh_mm_ss<milliseconds> clock{since_epoch_ms - day_start};
  const int year = std::clamp(static_cast<int>(date.year()), 0, 9999);
  // Fixed width, so the digits go straight into place: no printf on the logging path.
  std::array<char, 24> text{'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                            '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
  PutDigits(&text[0], static_cast<unsigned>(year), 4);
  PutDigits(&text[5], static_cast<unsigned>(date.month()), 2);
  PutDigits(&text[8], static_cast<unsigned>(date.day()), 2);
  PutDigits(&text[11], static_cast<unsigned>(clock.hours().count()), 2);
  PutDigits(&text[14], static_cast<unsigned>(clock.minutes().count()), 2);
  PutDigits(&text[17], static_cast<unsigned>(clock.seconds().count()), 2);
  PutDigits(&text[20], static_cast<unsigned>(clock.subseconds().count()), 3);
  out.append(text.data(), text.size());
}

}  // namespace cms::observability
