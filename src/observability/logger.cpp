#include "observability/logger.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace cms::observability {

namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "UNKNOWN";  // Unreachable for a valid enumerator; keeps -Wreturn-type quiet.
}

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, LogLevel>, 5> kSpellings{{
      {"DEBUG", LogLevel::kDebug},
      {"INFO", LogLevel::kInfo},
      {"WARNING", LogLevel::kWarning},
      {"WARN", LogLevel::kWarning},  // The spelling spdlog and many libraries use.
      {"ERROR", LogLevel::kError},
  }};
  for (const auto& [spelling, level] : kSpellings) {
    if (EqualsIgnoringCase(text, spelling)) return level;
  }
  return std::nullopt;
}

}  // namespace cms::observability
