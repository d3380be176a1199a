// File: app/simulate_command.hpp
//
// `claude-microservice simulate`: runs the fake Anthropic API (simulator/) until
// SIGTERM/SIGINT. Returns the process exit code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cms::app {

struct SimulateCommandOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9100;
  std::string api_key;  // Empty: any non-empty x-api-key is accepted.
  std::int64_t first_byte_delay_ms = 0;
  std::int64_t chunk_delay_ms = 0;
  std::size_t workers = 1;
};

int RunSimulateCommand(const SimulateCommandOptions& options);

}  // namespace cms::app
