// File: simulator/sim_json.hpp
//
// Appending JSON fragments to a string without building a DOM: the simulator renders its
// bodies and SSE events by hand, with reserve/append, so it is never the bottleneck of a
// benchmark. Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_escape.hpp"

namespace cms::simulator {

// JSON string literals: the one escaper the whole service uses.
using core::AppendJsonString;

// Appends a signed integer in decimal.
void AppendInteger(std::string& out, std::int64_t value);

// Appends `value` as `digits` lowercase hex digits (the low 4*digits bits), zero-padded.
void AppendHex(std::string& out, std::uint64_t value, int digits);

}  // namespace cms::simulator
