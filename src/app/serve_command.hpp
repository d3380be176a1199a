// File: app/serve_command.hpp
//
// `claude-microservice serve`: loads the settings (environment over ./.env), refuses to start
// on any bad setting (one line per bad variable on stderr, before binding), then runs the
// service until SIGTERM/SIGINT and drains it. Returns the process exit code.
#pragma once

namespace cms::app {

int RunServeCommand();

}  // namespace cms::app
