#include "simulator/sim_wire.hpp"

#include "simulator/sim_json.hpp"

namespace cms::simulator {

namespace {

void AppendCount(std::string& out, std::string_view key, std::int64_t value) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
  AppendInteger(out, value);
}

// The usage object; `output_tokens` is passed separately because message_start carries
// the placeholder 1 while message_delta and the Message carry the final count.
void AppendUsage(std::string& out, const SimUsage& usage, std::int64_t output_tokens) {
  out.push_back('{');
  AppendCount(out, "input_tokens", usage.input_tokens);
  out.push_back(',');
  AppendCount(out, "cache_creation_input_tokens", usage.cache_creation_input_tokens);
  out.push_back(',');
  AppendCount(out, "cache_read_input_tokens", usage.cache_read_input_tokens);
  out.append(",\"cache_creation\":{");
  AppendCount(out, "ephemeral_5m_input_tokens", usage.ephemeral_5m_input_tokens);
  out.push_back(',');
  AppendCount(out, "ephemeral_1h_input_tokens", usage.ephemeral_1h_input_tokens);
  out.append("},");
  AppendCount(out, "output_tokens", output_tokens);
  out.append(",\"service_tier\":\"standard\"}");
}

// {"id":...,"type":"message","role":"assistant","model":...,"content":
void AppendMessageHead(std::string& out, std::string_view message_id, std::string_view model) {
  out.append(R"({"id":)");
  AppendJsonString(out, message_id);
  out.append(R"(,"type":"message","role":"assistant","model":)");
  AppendJsonString(out, model);
  out.append(R"(,"content":)");
}

}  // namespace

std::string RenderMessage(const SimAnswer& answer, std::string_view message_id,
                          std::string_view model) {
  std::string body;
  body.reserve(512 + answer.text.size() + model.size());
  AppendMessageHead(body, message_id, model);
  body.append(R"([{"type":"text","text":)");
  AppendJsonString(body, answer.text);
  body.append(R"(}],"stop_reason":")");
  body.append(StopReasonName(answer.stop_reason));
  body.append(R"(","stop_sequence":null,"usage":)");
  AppendUsage(body, answer.usage, answer.usage.output_tokens);
  body.push_back('}');
  return body;
}

std::string RenderStreamOpening(const SimAnswer& answer, std::string_view message_id,
                                std::string_view model) {
  std::string events;
  events.reserve(640 + model.size());
  events.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":");
  AppendMessageHead(events, message_id, model);
  events.append(R"([],"stop_reason":null,"stop_sequence":null,"usage":)");
  AppendUsage(events, answer.usage, 1);
  events.append("}}\n\n");
  events.append(
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: ping\n"
      "data: {\"type\":\"ping\"}\n\n");
  return events;
}

void AppendTextDeltaEvent(std::string& out, std::string_view text) {
  out.append(
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":");
  AppendJsonString(out, text);
  out.append("}}\n\n");
}

std::string RenderStreamClosing(const SimAnswer& answer) {
  std::string events;
  events.reserve(512);
  events.append(
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"");
  events.append(StopReasonName(answer.stop_reason));
  events.append(R"(","stop_sequence":null},"usage":)");
  AppendUsage(events, answer.usage, answer.usage.output_tokens);
  events.append(
      "}\n\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n\n");
  return events;
}

std::string RenderMalformedMessage(std::string_view message_id, std::string_view model) {
  std::string body;
  body.reserve(160 + model.size());
  AppendMessageHead(body, message_id, model);
  // Cut inside a string, as a truncated or corrupted answer would be.
  body.append(R"([{"type":"text","text":"This answer is cut sho)");
  return body;
}

std::string_view MalformedEvent() {
  return "event: content_block_delta\n"
         "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_de\n\n";
}

}  // namespace cms::simulator
