#include "limits/limiter.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace cms::limits {

Limiter::~Limiter() = default;

void throw_exception_from_error(const LimiterError& error, const boost::source_location& location) {
  boost::throw_exception(std::runtime_error("limiter error: " + error.log_message), location);
}

}  // namespace cms::limits
