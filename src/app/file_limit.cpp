#include "app/file_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace cms::app {

namespace {
constexpr rlim_t kCeiling = 1'048'576;
constexpr std::size_t kReservedDescriptors = 64;
}  // namespace

std::size_t RaiseFileDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? kCeiling : std::min(limit.rlim_max, kCeiling);
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) {
    return static_cast<std::size_t>(std::min<rlim_t>(limit.rlim_cur, kCeiling));
  }
  rlimit raised = limit;
  raised.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) return static_cast<std::size_t>(limit.rlim_cur);
  return static_cast<std::size_t>(wanted);
}

std::size_t AutoUpstreamConcurrency(std::size_t descriptor_limit) {
  if (descriptor_limit <= 2 * kReservedDescriptors) return 16;
  return std::max<std::size_t>(16, (descriptor_limit - kReservedDescriptors) / 2);
}

}  // namespace cms::app
