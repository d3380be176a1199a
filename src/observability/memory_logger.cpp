#include "observability/memory_logger.hpp"

#include <algorithm>
#include <utility>

#include "observability/log_line.hpp"
#include "observability/log_line_object.hpp"

namespace cms::observability {

namespace {

bool HasEvent(const boost::json::object& line, std::string_view event) {
  const auto* value = line.if_contains(kEventKey);
  return value != nullptr && value->is_string() && value->get_string() == event;
}

}  // namespace

MemoryLogger::MemoryLogger(LogLevel level) : threshold_(level) {}

bool MemoryLogger::Enabled(LogLevel level) const { return level >= threshold_; }

void MemoryLogger::Write(LogLevel level, std::string_view event, std::string_view request_id,
                         LogFields fields) {
  if (!Enabled(level)) return;
  boost::json::object line = LogLineObject(level, event, request_id, fields);
  const std::lock_guard lock(mutex_);
  lines_.push_back(std::move(line));
}

std::vector<boost::json::object> MemoryLogger::Lines() const {
  const std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<boost::json::object> MemoryLogger::LinesWithEvent(std::string_view event) const {
  const std::lock_guard lock(mutex_);
  std::vector<boost::json::object> matching;
  std::copy_if(lines_.begin(), lines_.end(), std::back_inserter(matching),
               [&](const boost::json::object& line) { return HasEvent(line, event); });
  return matching;
}

std::size_t MemoryLogger::Count(std::string_view event) const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(lines_.begin(), lines_.end(),
                    [&](const boost::json::object& line) { return HasEvent(line, event); }));
}

void MemoryLogger::Clear() {
  const std::lock_guard lock(mutex_);
  lines_.clear();
}

}  // namespace cms::observability
