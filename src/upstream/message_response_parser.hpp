// File: upstream/message_response_parser.hpp
//
// Reads a whole (non-streaming) Messages API answer (docs/anthropic-api.md section 2) in one
// pass of Boost.JSON's SAX parser, keeping only what a core::Completion holds: no DOM is
// built, and each kept string is unescaped straight into the Completion. This is the reading
// half of ParseMessageResponse (anthropic_wire.hpp), which turns a defect into its error.
//
// It reads exactly what a Boost.JSON DOM of the body, read by the field rules of
// upstream/wire_dom.hpp, gives (the unit tests compare the two on every case and mutation
// they have):
//   - the same grammar and limits as boost::json::parse with default options: strict JSON
//     (no comments, no trailing commas, well-formed UTF-8 only), nothing after the root
//     value but whitespace, and at most 32 levels of nesting anywhere in the document, so
//     unknown members of any shape up to that depth are skipped and deeper ones are a
//     syntax error, as before (UTF-8 is checked over the whole body up front rather than by
//     the parser string by string, which is cheaper and refuses exactly the same bodies);
//   - a key given more than once in an object: the last occurrence wins, as in
//     boost::json::object (so a repeated `content` replaces the whole earlier answer text,
//     a repeated `usage` all earlier counters).
//
// Thread safety: a reentrant free function. Failures: a MessageResponseDefect; nothing is
// thrown but std::bad_alloc.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/system/result.hpp>

#include "core/completion.hpp"

namespace cms::upstream::detail {

// Why a body is not a usable answer. When several apply, the first one listed is the one
// reported (the order in which a DOM reader would check them).
enum class MessageResponseDefect : std::uint8_t {
  kNotAnObject,                 // Not JSON, or its root is not an object.
  kNoContentArray,              // `content` is absent or not an array.
  kMalformedContentBlock,       // A block is not an object, or a text block's `text` is
                                // absent or not a string.
  kMalformedModelOrStopReason,  // `model` or `stop_reason` is neither a string nor null.
  kMalformedUsage,              // `usage` is neither an object nor null, or one of its four
                                // counters is neither null nor an integer within int64.
};

// The answer in `body`: every block whose `type` is "text" contributes its `text`, in order
// (the text may come before the type in a block); model and stop_reason (empty when null
// or absent); usage's input_tokens, output_tokens, cache_creation_input_tokens and
// cache_read_input_tokens (zero when null or absent). Every other member is skipped.
[[nodiscard]] boost::system::result<core::Completion, MessageResponseDefect> ReadMessageResponse(
    std::string_view body);

}  // namespace cms::upstream::detail
