#include "core/worker_pool.hpp"

namespace cms::core {

WorkerPool::WorkerPool(std::size_t workers) {
  contexts_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread, so Asio's scheduler
    // keeps completions in a thread-private queue and wakes no other thread. Its locks stay
    // (other threads post here). Dropping the reactor's per-socket locks as well
    // (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) made no measurable difference at c=256.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
  }
}

WorkerPool::~WorkerPool() { Stop(/*abandon_work=*/true); }

void WorkerPool::Start() {
  for (auto& context : contexts_) {
    guards_.emplace_back(context->get_executor());
    threads_.emplace_back([ctx = context.get()] { ctx->run(); });
  }
}

void WorkerPool::Stop(bool abandon_work) {
  guards_.clear();
  if (abandon_work) {
    for (auto& context : contexts_) context->stop();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

std::size_t WorkerPool::NextIndex() {
  return next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size();
}

std::size_t WorkerPool::IndexOf(const boost::asio::execution_context& context) const {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    if (contexts_[i].get() == &context) return i;
  }
  return contexts_.size();
}

}  // namespace cms::core
