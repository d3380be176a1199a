// File: tests/support/eventually.hpp
//
// Waiting in tests for what other threads do, without timing assertions: a condition or a
// future is waited for up to kPatience, a bound far above anything the tests need, so it
// only ends a hang. Header-only; shared by the unit tests of cache/ and limits/.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <thread>

namespace cms::testing_support {

inline constexpr auto kPatience = std::chrono::seconds(30);

// True once `condition` holds (polled every millisecond); false after kPatience.
inline bool Eventually(const std::function<bool()>& condition) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// True when `future` holds its value or exception now.
template <class T>
bool IsReady(std::future<T>& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

// True once `future` holds its value or exception; false after kPatience.
template <class T>
bool BecomesReady(std::future<T>& future) {
  return future.wait_for(kPatience) == std::future_status::ready;
}

}  // namespace cms::testing_support
