#include "observability/log_line_object.hpp"

#include <optional>
#include <string>

#include "observability/log_line.hpp"

namespace cms::observability {

boost::json::value ToJsonValue(const LogValue& value) {
  switch (value.kind()) {
    case LogValue::Kind::kNull:
      return nullptr;
    case LogValue::Kind::kString:
      return boost::json::string(value.AsString());
    case LogValue::Kind::kBool:
      return value.AsBool();
    case LogValue::Kind::kInt:
      return value.AsInt();
    case LogValue::Kind::kUint:
      return value.AsUint();
    case LogValue::Kind::kDouble:
      return value.AsDouble();
  }
  return nullptr;  // Unreachable for a valid Kind; keeps -Wreturn-type quiet.
}

boost::json::object LogLineObject(LogLevel level, std::string_view event,
                                  std::string_view request_id, LogFields fields) {
  boost::json::object line;
  line.reserve(3 + fields.size());
  line.emplace(kLevelKey, LogLevelName(level));
  line.emplace(kEventKey, event);
  if (!request_id.empty()) line.emplace(kRequestIdKey, request_id);
  std::string scratch;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::optional<std::string_view> key = LineFieldKey(fields, i, scratch);
    if (key) line.emplace(*key, ToJsonValue(fields[i].value));
  }
  return line;
}

}  // namespace cms::observability
