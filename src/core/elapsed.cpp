#include "core/elapsed.hpp"

#include <cmath>

namespace cms::core {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  const double elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return std::round(elapsed * 10.0) / 10.0;
}

}  // namespace cms::core
