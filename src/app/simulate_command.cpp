#include "app/simulate_command.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "app/termination_signal.hpp"
#include "core/worker_pool.hpp"
#include "observability/json_logger.hpp"
#include "simulator/simulator.hpp"

namespace cms::app {

int RunSimulateCommand(const SimulateCommandOptions& options) {
  BlockTerminationSignals();
  if (options.workers < 1 || options.first_byte_delay_ms < 0 || options.chunk_delay_ms < 0) {
    std::cerr << "simulate: --workers must be at least 1 and delays must not be negative\n";
    return EXIT_FAILURE;
  }
  observability::JsonLogger logger{observability::JsonLoggerOptions{}};
  core::WorkerPool workers{options.workers};
  simulator::SimulatorOptions simulator_options;
  simulator_options.host = options.host;
  simulator_options.port = options.port;
  simulator_options.api_key = options.api_key;
  simulator_options.first_byte_delay = std::chrono::milliseconds(options.first_byte_delay_ms);
  simulator_options.chunk_delay = std::chrono::milliseconds(options.chunk_delay_ms);
  simulator::Simulator simulator{simulator_options, workers, logger};
  try {
    simulator.Start();
  } catch (const std::system_error& e) {
    std::cerr << "simulate: cannot listen on " << options.host << ":" << options.port << ": "
              << e.what() << "\n";
    return EXIT_FAILURE;
  }
  workers.Start();
  WaitForTerminationSignal();
  simulator.Drain(std::chrono::seconds(2));
  workers.Stop();
  logger.Flush();
  return EXIT_SUCCESS;
}

}  // namespace cms::app
