// File: app/file_limit.hpp
//
// Every caller connection and every upstream call holds a file descriptor. Distributions
// start processes with a soft limit of 1024 while allowing far more: the service raises its
// soft limit to the hard limit at startup, and sizes its upstream concurrency from the result.
#pragma once

#include <cstddef>

namespace cms::app {

// Raises RLIMIT_NOFILE's soft limit to its hard limit (bounded to 1,048,576) and returns the
// soft limit in force afterwards.
std::size_t RaiseFileDescriptorLimit();

// MAX_CONCURRENT_UPSTREAM when configured as 0 (auto): half the descriptors (one for the
// caller, one for the upstream call), less a reserve for listeners, logs and the store.
std::size_t AutoUpstreamConcurrency(std::size_t descriptor_limit);

}  // namespace cms::app
