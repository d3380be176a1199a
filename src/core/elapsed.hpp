// File: core/elapsed.hpp
//
// Elapsed time as the contract reports it (latency_ms, log fields): milliseconds rounded to
// one decimal. Reads the steady clock; thread-safe.
#pragma once

#include <chrono>

namespace cms::core {

[[nodiscard]] double MillisecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace cms::core
