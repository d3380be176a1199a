#include "api/completion_response.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/json_escape.hpp"

namespace cms::api {
namespace {

// Room for the fixed keys, four counters and a latency, beyond the variable strings.
constexpr std::size_t kFixedOverheadBytes = 256;

void AppendInteger(std::string& out, std::int64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace

void AppendLatencyMs(std::string& out, double milliseconds) {
  // `> 0.0` also catches -0.0, which would print as "-0.0".
  if (!std::isfinite(milliseconds) || !(milliseconds > 0.0)) milliseconds = 0.0;
  // Fixed notation with precision 1 rounds the exact binary value correctly, so the text
  // is what Python's round(x, 1) would print, minus its switch to exponents past 1e16.
  // The largest double needs 309 integer digits.
  char digits[330];
  const auto result =
      std::to_chars(digits, digits + sizeof digits, milliseconds, std::chars_format::fixed, 1);
  out.append(digits, result.ptr);
}

std::string RenderCompletionResponse(const core::Completion& completion,
                                     std::string_view request_id, bool cached, double latency_ms) {
  std::string out;
  // Content may grow a little when escaped; the common case fits in one allocation.
  out.reserve(kFixedOverheadBytes + request_id.size() + completion.model.size() +
              completion.content.size() + completion.content.size() / 16 +
              completion.stop_reason.size());
  out += R"({"request_id":)";
  core::AppendJsonString(out, request_id);
  out += R"(,"model":)";
  core::AppendJsonString(out, completion.model);
  out += R"(,"content":)";
  core::AppendJsonString(out, completion.content);
  out += R"(,"usage":{"input_tokens":)";
  AppendInteger(out, completion.usage.input_tokens);
  out += R"(,"output_tokens":)";
  AppendInteger(out, completion.usage.output_tokens);
  out += R"(,"cache_creation_input_tokens":)";
  AppendInteger(out, completion.usage.cache_creation_input_tokens);
  out += R"(,"cache_read_input_tokens":)";
  AppendInteger(out, completion.usage.cache_read_input_tokens);
  out += R"(},"cached":)";
  out += cached ? "true" : "false";
  out += R"(,"latency_ms":)";
  AppendLatencyMs(out, latency_ms);
  out += R"(,"stop_reason":)";
  if (completion.stop_reason.empty()) {
    out += "null";
  } else {
    core::AppendJsonString(out, completion.stop_reason);
  }
  out.push_back('}');
  return out;
}

}  // namespace cms::api
