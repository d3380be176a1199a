// File: observability/log_field.hpp
//
// LogField: one key/value pair of a log event, as a call site writes it:
//   logger.Info("anthropic_response", request_id,
//               {{"model", completion.model}, {"output_tokens", tokens}, {"latency_ms", ms}});
// A field is a borrowed view plus a tag: building one never allocates and never formats,
// so an event below the logger's threshold costs a few stores, not a JSON document.
//
// LogValue converts implicitly from what call sites pass:
//   std::string_view, std::string, const char*, any class
//   that converts to std::string_view                    -> JSON string (a null char* -> null)
//   bool (exactly bool: a pointer never becomes a flag)  -> true / false
//   signed integers (int, long, int64_t, ...)            -> integer, kept as int64
//   unsigned integers (unsigned, size_t, uint16_t, ...)  -> integer, kept as uint64
//   float, double                                        -> number in plain decimal
//   nullptr                                              -> null
// The signed/unsigned split is the one boost::json::value makes, so a MemoryLogger line
// holds the same kinds (as_int64() vs as_uint64()) as before fields were views.
// Anything else (durations, enums, pointers) does not compile: convert it at the call site.
//
// Lifetime: string values and keys are views. They are valid for the full expression of the
// logging call (a temporary std::string argument lives until the call returns), and no
// Logger keeps a field after Write() returns. Never store a LogField.
//
// Thread safety: plain values; no shared state.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace cms::observability {

// A class that converts to std::string_view: std::string, boost::core::string_view (what
// Beast returns), boost::json::string. (Pointers and arrays take the const char* route.)
template <typename T>
concept StringLike = std::is_class_v<T> && std::is_convertible_v<const T&, std::string_view>;

// bool is an unsigned integral type to the standard library; to a log line it is a flag.
template <typename T>
concept UnsignedNotBool = std::unsigned_integral<T> && !std::same_as<T, bool>;

class LogValue {
 public:
  enum class Kind : std::uint8_t { kNull, kString, kBool, kInt, kUint, kDouble };

  constexpr LogValue() noexcept : kind_(Kind::kNull), int_(0) {}
  constexpr LogValue(std::nullptr_t) noexcept : LogValue() {}
  constexpr LogValue(std::string_view text) noexcept : kind_(Kind::kString), string_(text) {}
  template <StringLike T>
  LogValue(const T& text) noexcept : kind_(Kind::kString), string_(text) {}
  // A null pointer is written as null rather than crashing the process that logs it.
  constexpr LogValue(const char* text) noexcept
      : kind_(text == nullptr ? Kind::kNull : Kind::kString),
        string_(text == nullptr ? std::string_view() : std::string_view(text)) {}
  // A template so that only a real bool matches: with a plain LogValue(bool), any pointer
  // (an int*, a const unsigned char*) would silently log as `true`.
  template <std::same_as<bool> T>
  constexpr LogValue(T flag) noexcept : kind_(Kind::kBool), bool_(flag) {}
  template <std::signed_integral T>
  constexpr LogValue(T number) noexcept : kind_(Kind::kInt), int_(number) {}
  template <UnsignedNotBool T>
  constexpr LogValue(T number) noexcept : kind_(Kind::kUint), uint_(number) {}
  template <std::floating_point T>
  constexpr LogValue(T number) noexcept : kind_(Kind::kDouble), double_(number) {}

  [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
  // Each accessor REQUIRES kind() to be the matching kind.
  [[nodiscard]] constexpr std::string_view AsString() const noexcept { return string_; }
  [[nodiscard]] constexpr bool AsBool() const noexcept { return bool_; }
  [[nodiscard]] constexpr std::int64_t AsInt() const noexcept { return int_; }
  [[nodiscard]] constexpr std::uint64_t AsUint() const noexcept { return uint_; }
  [[nodiscard]] constexpr double AsDouble() const noexcept { return double_; }

 private:
  Kind kind_;
  union {
    std::string_view string_;
    bool bool_;
    std::int64_t int_;
    std::uint64_t uint_;
    double double_;
  };
};

struct LogField {
  std::string_view key;
  LogValue value;
};

// The fields of one event, in the order the line carries them. Borrowed, like LogField.
using LogFields = std::span<const LogField>;

}  // namespace cms::observability
