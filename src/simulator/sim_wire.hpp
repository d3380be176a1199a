// File: simulator/sim_wire.hpp
//
// Renders a SimAnswer in the Anthropic wire format (docs/anthropic-api.md §2 and §3):
// the non-streaming Message object, and the SSE events of a stream in their required order
//
//   message_start, content_block_start (index 0), ping,
//   content_block_delta (text_delta) ..., content_block_stop, message_delta, message_stop
//
// each as `event: <name>\ndata: <one-line JSON>\n\n`. Usage is always present in both
// message_start (output_tokens 1) and message_delta (the final counts), as the SDKs need.
// Also the deliberately broken bodies of the `malformed` fault.
//
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "simulator/sim_answer.hpp"

namespace cms::simulator {

// The non-streaming Message object.
[[nodiscard]] std::string RenderMessage(const SimAnswer& answer, std::string_view message_id,
                                        std::string_view model);

// message_start + content_block_start + ping: everything before the first delta.
[[nodiscard]] std::string RenderStreamOpening(const SimAnswer& answer, std::string_view message_id,
                                              std::string_view model);

// Appends one content_block_delta event carrying `text` as a text_delta of block 0.
void AppendTextDeltaEvent(std::string& out, std::string_view text);

// content_block_stop + message_delta (stop_reason and final usage) + message_stop.
[[nodiscard]] std::string RenderStreamClosing(const SimAnswer& answer);

// A 200 body that starts like a Message but is not valid JSON.
[[nodiscard]] std::string RenderMalformedMessage(std::string_view message_id,
                                                 std::string_view model);

// A content_block_delta event whose data line is not valid JSON.
[[nodiscard]] std::string_view MalformedEvent();

}  // namespace cms::simulator
