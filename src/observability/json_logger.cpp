#include "observability/json_logger.hpp"

#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include <spdlog/sinks/stdout_sinks.h>

#include "observability/log_line_text.hpp"

namespace cms::observability {

namespace json_logger_internal {

struct Progress {
  std::mutex mutex;
  std::condition_variable written_changed;
  std::size_t submitted = 0;  // Guarded by mutex: lines handed to spdlog.
  std::size_t written = 0;    // Guarded by mutex: lines the sink finished (or failed) writing.
};

}  // namespace json_logger_internal

namespace {

using json_logger_internal::Progress;

// Room for a typical request line (anthropic_response is about 310 bytes), so building it
// costs one allocation.
constexpr std::size_t kLineReserve = 512;

// Forwards to the real sink and counts finished lines, which is what lets Flush() wait for
// exactly the lines logged before it: spdlog 1.10's async flush is fire-and-forget.
// Flushing after every line keeps output prompt when stdout is a pipe (fully buffered).
class ProgressSink final : public spdlog::sinks::sink {
 public:
  ProgressSink(spdlog::sink_ptr inner, std::shared_ptr<Progress> progress)
      : inner_(std::move(inner)), progress_(std::move(progress)) {}

  void log(const spdlog::details::log_msg& msg) override {
    try {
      inner_->log(msg);
      inner_->flush();
    } catch (...) {
      // Counted even when the sink throws (spdlog reports that itself), or Flush() would
      // wait for a line that will never come.
      MarkWritten();
      throw;
    }
    MarkWritten();
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  void MarkWritten() {
    {
      const std::lock_guard lock(progress_->mutex);
      ++progress_->written;
    }
    progress_->written_changed.notify_all();
  }

  const spdlog::sink_ptr inner_;
  const std::shared_ptr<Progress> progress_;
};

spdlog::level::level_enum SpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

JsonLogger::JsonLogger(JsonLoggerOptions options)
    : threshold_(options.level),
      clock_(options.clock ? std::move(options.clock)
                           : std::function<std::chrono::system_clock::time_point()>(
                                 [] { return std::chrono::system_clock::now(); })),
      progress_(std::make_shared<Progress>()) {
  thread_pool_ = std::make_shared<spdlog::details::thread_pool>(
      options.queue_capacity == 0 ? 1 : options.queue_capacity, 1);
  spdlog::sink_ptr inner =
      options.sink ? std::move(options.sink) : std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto sink = std::make_shared<ProgressSink>(std::move(inner), progress_);
  // Constructed directly (not spdlog::create_async) so nothing enters spdlog's registry.
  logger_ = std::make_shared<spdlog::async_logger>("cms", std::move(sink), thread_pool_,
                                                   spdlog::async_overflow_policy::overrun_oldest);
  logger_->set_pattern("%v");
  // Filtering happens in Enabled(); spdlog passes everything it is given.
  logger_->set_level(spdlog::level::trace);
}

JsonLogger::~JsonLogger() {
  // Drain and join first (queued lines are written), then drop the logger and sink here.
  thread_pool_.reset();
  logger_.reset();
}

bool JsonLogger::Enabled(LogLevel level) const { return level >= threshold_; }

void JsonLogger::Write(LogLevel level, std::string_view event, std::string_view request_id,
                       LogFields fields) {
  if (!Enabled(level)) return;
  std::string text;
  text.reserve(kLineReserve);
  AppendLogLine(text, clock_(), level, event, request_id, fields);
  {
    const std::lock_guard lock(progress_->mutex);
    ++progress_->submitted;
  }
  logger_->log(SpdlogLevel(level), std::string_view(text));
}

bool JsonLogger::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(progress_->mutex);
  const std::size_t target = progress_->submitted;
  // Dropped lines never reach the sink; they count as done. The overrun counter takes the
  // queue's own lock, never ours, so reading it here cannot deadlock with the sink.
  return progress_->written_changed.wait_for(lock, timeout, [&] {
    return progress_->written + thread_pool_->overrun_counter() >= target;
  });
}

std::size_t JsonLogger::DroppedLines() const { return thread_pool_->overrun_counter(); }

}  // namespace cms::observability
