// File: core/worker_pool.hpp
//
// WorkerPool: the service's I/O threads, one io_context per thread ("thread per core").
// A connection lives on one worker for its whole life, so its coroutines, timers and its
// upstream connection never need a strand; state shared between workers (the cache, the
// key store) synchronises internally.
//
// Lifecycle: construct, Start() (spawns the threads), Stop() or destruction (stops every
// context and joins). Contexts outlive every coroutine spawned on them.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace cms::core {

class WorkerPool {
 public:
  // REQUIRES: workers >= 1.
  explicit WorkerPool(std::size_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts one thread per context. Call once.
  void Start();
  // Lets the contexts finish their queued work and returns when every thread has ended
  // (ends them at once if `abandon_work`, for shutdown past the grace period).
  void Stop(bool abandon_work = false);

  [[nodiscard]] std::size_t Size() const { return contexts_.size(); }
  [[nodiscard]] boost::asio::io_context& Context(std::size_t index) { return *contexts_[index]; }
  // Round-robin choice for the next connection.
  [[nodiscard]] std::size_t NextIndex();
  // The index of `context` in this pool, or Size() when it is not one of ours.
  [[nodiscard]] std::size_t IndexOf(const boost::asio::execution_context& context) const;

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // Constant after construction.
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;

  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace cms::core
