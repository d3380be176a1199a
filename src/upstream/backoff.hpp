// File: upstream/backoff.hpp
//
// How long to wait before retrying an upstream call, as pure functions: exponential backoff
// with full jitter, and the upstream's own advice in a Retry-After header. The randomness is
// a seam (RandomSource) so tests choose the draw and assert on the exact delay.
//
//   const auto advised = ParseRetryAfter(error.retry_after.value_or(""),
//                                        std::chrono::system_clock::now());
//   const auto delay = advised ? std::min(*advised, cap)
//                              : FullJitterDelay(retry, base, max, random.Uniform01());
//
// Misses: ParseRetryAfter returns std::nullopt for anything that is not a valid Retry-After
// value (the caller then falls back to backoff); it never throws.
//
// Thread safety: the free functions are reentrant. SystemRandomSource may be shared by every
// thread (one internal mutex).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

namespace cms::upstream {

// Where the jitter's randomness comes from. Implementations must be safe to call from every
// I/O thread at once.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // A draw uniformly distributed in [0, 1).
  virtual double Uniform01() = 0;
};

// The production RandomSource: a 64-bit Mersenne Twister seeded once from
// std::random_device. Not for cryptography: jitter only has to de-synchronise clients.
class SystemRandomSource final : public RandomSource {
 public:
  SystemRandomSource();
  SystemRandomSource(const SystemRandomSource&) = delete;
  SystemRandomSource& operator=(const SystemRandomSource&) = delete;

  double Uniform01() override;

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;  // Guarded by mutex_.
};

// The longest delay ParseRetryAfter reports: larger or later values saturate to it. A day is
// far beyond any sensible retry; callers cap server advice much lower anyway.
inline constexpr std::chrono::milliseconds kMaxRetryAfter{std::chrono::hours(24)};

// min(max_delay, base_delay * 2^retry), computed without overflow. `retry` is the number of
// retries already made (0 before the first retry; a negative value counts as 0). Zero when
// base_delay or max_delay is zero or negative.
[[nodiscard]] std::chrono::milliseconds BackoffCeiling(int retry,
                                                       std::chrono::milliseconds base_delay,
                                                       std::chrono::milliseconds max_delay);

// Exponential backoff with full jitter: a whole number of milliseconds uniformly distributed
// in [0, BackoffCeiling(retry, base_delay, max_delay)], both ends included, chosen by
// `uniform01` (a draw in [0, 1): 0 gives 0, values just below 1 give the ceiling; values
// outside the range, NaN included, are clamped into it). Full jitter spreads the retries of
// many clients that failed together over the whole window, so they do not return in a herd.
[[nodiscard]] std::chrono::milliseconds FullJitterDelay(int retry,
                                                        std::chrono::milliseconds base_delay,
                                                        std::chrono::milliseconds max_delay,
                                                        double uniform01);

// Parses an HTTP Retry-After value (RFC 9110 section 10.2.3), surrounding spaces and tabs
// ignored:
//   - delay-seconds: "120"; a decimal fraction is accepted too ("1.5", "0.010"), as the
//     official SDKs accept it. Fractions are rounded up to the next millisecond, so the wait
//     is never shorter than asked.
//   - HTTP-date in any of the three forms recipients must accept: IMF-fixdate
//     ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"; a
//     two-digit year more than 50 years after `now` is taken as the previous century) and
//     asctime ("Sun Nov  6 08:49:37 1994"). The delay is the date minus `now`; a date in the
//     past means 0.
// Values over kMaxRetryAfter saturate to it. Returns std::nullopt for an empty value, a sign
// ("-1", "+1"), an exponent or any other text, and for impossible dates (31 Feb, 25:00).
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace cms::upstream
