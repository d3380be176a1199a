// File: upstream/wire_dom.hpp
//
// The field rules of the Anthropic wire format over a parsed JSON document (a boost::json
// DOM): how an optional string, a token counter, a usage object and a content block are
// read. StreamAccumulator applies them to stream events; the one-pass reader of a whole
// Message (message_response_parser.cpp) implements the same rules, and its tests check it
// against these.
//
// Pure functions; reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/completion.hpp"

namespace cms::upstream::dom {

// Reads an optional string member: absent or null leave `out` unchanged. False on any other
// type.
[[nodiscard]] bool ReadOptionalString(const boost::json::object& object, std::string_view key,
                                      std::string& out);

// Reads an optional integer counter: absent or null leave `out` unchanged. False on any
// other type or a value outside int64.
[[nodiscard]] bool ReadOptionalCounter(const boost::json::object& object, std::string_view key,
                                       std::int64_t& out);

// Overwrites the counters present in `usage_value` (an object, null or absent), keeping the
// others: the rule for a whole Message, message_start and a stream's cumulative
// message_delta.
[[nodiscard]] bool MergeUsage(const boost::json::value* usage_value, core::Usage& usage);

// The text a content block contributes: its `text` when it is a text block, else nothing.
// False when the block is not an object or a text block's text is not a string.
[[nodiscard]] bool AppendTextBlock(const boost::json::value& block_value, std::string& out);

}  // namespace cms::upstream::dom
