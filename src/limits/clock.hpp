// File: limits/clock.hpp
//
// The limiter reads time through the same injectable Clock as the response cache
// (cache/clock.hpp, header-only, so cms_limits needs no link to cms_cache): SteadyClock in
// production, ManualClock in tests. See that header for the contract and thread safety.
#pragma once

#include "cache/clock.hpp"

namespace cms::limits {

using Clock = cache::Clock;
using SteadyClock = cache::SteadyClock;
using ManualClock = cache::ManualClock;
using cache::DefaultClock;

}  // namespace cms::limits
