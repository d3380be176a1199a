#include <stdexcept>

#include <boost/throw_exception.hpp>

#include "cache/response_cache.hpp"

namespace cms::cache {

void throw_exception_from_error(const CacheError& error, const boost::source_location& location) {
  boost::throw_exception(std::runtime_error("cache error: " + error.log_message), location);
}

}  // namespace cms::cache
