// File: core/json_escape.hpp
//
// Writing JSON string literals straight into an output buffer, for the hand-assembled
// bodies on the hot path (completion responses, SSE frames, error bodies): no DOM, no
// temporary strings, one append per run of plain bytes.
//
// Thread safety: pure functions, no state.
#pragma once

#include <string>
#include <string_view>

namespace cms::core {

// Appends `text` to `out` as a JSON string literal, quotes included. Escapes `"`, `\` and
// every control character below U+0020 (\b \f \n \r \t by name, the rest as \u00XX), so
// the literal never contains a raw CR or LF (an SSE data line stays one line). Bytes of
// U+0080 and above are copied unchanged.
// REQUIRES: `text` is valid UTF-8 (our strings come from parsed JSON, which guarantees
// it); invalid bytes are copied through and would make the output invalid JSON.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace cms::core
