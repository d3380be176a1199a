// File: app/termination_signal.hpp
//
// SIGTERM/SIGINT handling without asynchronous signal handlers: the main thread blocks both
// signals before any other thread exists (so every thread inherits the mask) and later waits
// for one with sigwait. Nothing runs in signal context.
#pragma once

namespace cms::app {

// REQUIRES: called before any thread is started.
void BlockTerminationSignals();

// Blocks the calling thread until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace cms::app
