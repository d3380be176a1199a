#include "observability/log_line_text.hpp"

#include <array>
#include <charconv>
#include <optional>

#include "core/json_escape.hpp"
#include "core/json_text.hpp"
#include "observability/log_line.hpp"

namespace cms::observability {

namespace {

template <typename Integer>
void AppendInteger(std::string& out, Integer number) {
  std::array<char, 24> digits{};  // 20 digits and a sign at most.
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), number);
  out.append(digits.data(), result.ptr);
}

// `"key":`
void AppendKey(std::string& out, std::string_view key) {
  core::AppendJsonString(out, key);
  out.push_back(':');
}

}  // namespace

void AppendLogValue(std::string& out, const LogValue& value) {
  switch (value.kind()) {
    case LogValue::Kind::kNull:
      out.append("null");
      return;
    case LogValue::Kind::kString:
      core::AppendJsonString(out, value.AsString());
      return;
    case LogValue::Kind::kBool:
      out.append(value.AsBool() ? "true" : "false");
      return;
    case LogValue::Kind::kInt:
      AppendInteger(out, value.AsInt());
      return;
    case LogValue::Kind::kUint:
      AppendInteger(out, value.AsUint());
      return;
    case LogValue::Kind::kDouble:
      core::AppendPlainDecimal(out, value.AsDouble());
      return;
  }
}

void AppendLogLine(std::string& out, std::chrono::system_clock::time_point time, LogLevel level,
                   std::string_view event, std::string_view request_id, LogFields fields) {
  // The fixed keys are plain ASCII: written as literals, not escaped one by one.
  out.append(R"({"timestamp":")");
  AppendTimestamp(out, time);
  out.append(R"(","level":")");
  out.append(LogLevelName(level));
  out.append(R"(","event":)");
  core::AppendJsonString(out, event);
  if (!request_id.empty()) {
    out.append(R"(,"request_id":)");
    core::AppendJsonString(out, request_id);
  }
  std::string scratch;  // Only a renamed key is built here; SSO covers the usual ones.
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::optional<std::string_view> key = LineFieldKey(fields, i, scratch);
    if (!key) continue;
    out.push_back(',');
    AppendKey(out, *key);
    AppendLogValue(out, fields[i].value);
  }
  out.push_back('}');
}

}  // namespace cms::observability
