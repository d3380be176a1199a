#include "simulator/sim_ids.hpp"

#include <random>

#include "simulator/sim_json.hpp"

namespace cms::simulator {

namespace {

std::uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::uint64_t Mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

IdSource::IdSource() : IdSource(RandomSeed()) {}

IdSource::IdSource(std::uint64_t seed) : seed_(seed) {}

std::string IdSource::NextMessageId() { return Next("msg_sim_"); }

std::string IdSource::NextRequestId() { return Next("req_sim_"); }

std::string IdSource::Next(std::string_view prefix) {
  const std::uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  std::string id;
  id.reserve(prefix.size() + 24);
  id.append(prefix);
  // 16 digits that look random, then 8 of the counter, which keep ids unique in a process.
  AppendHex(id, Mix(seed_ + n * 0x9e3779b97f4a7c15ULL), 16);
  AppendHex(id, n, 8);
  return id;
}

}  // namespace cms::simulator
