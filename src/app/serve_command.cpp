#include "app/serve_command.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>
#include <system_error>

#include "app/app.hpp"
#include "app/termination_signal.hpp"
#include "config/settings.hpp"

extern char** environ;  // NOLINT: POSIX, read once at startup.

namespace cms::app {

int RunServeCommand() {
  BlockTerminationSignals();
  config::Settings settings;
  try {
    settings = config::LoadSettings(config::CollectVariables(environ, ".env"));
  } catch (const config::ConfigError& e) {
    std::cerr << "claude-microservice: invalid configuration, not starting:\n";
    for (const std::string& problem : e.Problems()) std::cerr << "  " << problem << "\n";
    return EXIT_FAILURE;
  }
  try {
    App app{std::move(settings)};
    return app.Run();
  } catch (const std::system_error& e) {
    std::cerr << "claude-microservice: cannot start: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "claude-microservice: cannot start: " << e.what() << "\n";
  }
  return EXIT_FAILURE;
}

}  // namespace cms::app
