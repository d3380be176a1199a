#include "store/key_store.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace cms::store {

KeyStore::~KeyStore() = default;

void throw_exception_from_error(const KeyStoreError& error,
                                const boost::source_location& location) {
  boost::throw_exception(std::runtime_error("key store error: " + error.log_message), location);
}

}  // namespace cms::store
