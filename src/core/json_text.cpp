#include "core/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

namespace cms::core {

void AppendPlainDecimal(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";
    return;
  }
  // Plain decimal fits this buffer for every magnitude we write (DBL_MAX has 309 digits);
  // a tiny value whose shortest fixed form is longer falls back to the exponent form.
  std::array<char, 400> buffer{};
  auto [end, error] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), number, std::chars_format::fixed);
  if (error != std::errc{}) {
    out += boost::json::serialize(boost::json::value(number));
    return;
  }
  const std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  out += text;
  // Keep a visible fraction so the value still reads as a number with one ("100.0").
  if (text.find('.') == std::string_view::npos) out += ".0";
}

void AppendJson(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      AppendPlainDecimal(out, value.get_double());
      return;
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(member.key());
        out += ':';
        AppendJson(out, member.value());
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, element);
      }
      out += ']';
      return;
    }
    default:
      out += boost::json::serialize(value);
      return;
  }
}

std::string ToJsonText(const boost::json::value& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

}  // namespace cms::core
