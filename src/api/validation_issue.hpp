// File: api/validation_issue.hpp
//
// ValidationIssue: one problem found in a request body, in the shape FastAPI/pydantic v2
// clients already parse (CONTRACT.md section 3), and the 422 body that lists them:
//
//   {"detail":[{"type":"too_short","loc":["body","messages"],"msg":"List should ..."}]}
//
// `loc` is the complete pydantic location, "body" first, then field names and array
// indexes: {"body", "messages", 3, "content"}. `msg` is fixed text chosen by the validator:
// it never quotes the caller's input (bodies carry prompts, which are never echoed).
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/throw_exception.hpp>

namespace cms::api {

// One step of a location: a field name or an array index.
using LocItem = std::variant<std::string, std::int64_t>;

struct ValidationIssue {
  std::string type;          // pydantic v2 error type, e.g. "missing", "string_too_long".
  std::vector<LocItem> loc;  // Starts with "body".
  std::string msg;           // pydantic's message for `type`.

  friend bool operator==(const ValidationIssue&, const ValidationIssue&) = default;
};

// The 422 body: {"detail":[...issues in order...]}, plus "request_id" after "detail" when
// `request_id` is not empty.
[[nodiscard]] std::string RenderValidationBody(const std::vector<ValidationIssue>& issues,
                                               std::string_view request_id = {});

// Lets boost::system::result<T, std::vector<ValidationIssue>>::value() throw on an error
// (found by argument-dependent lookup through the vector's element type).
[[noreturn]] inline void throw_exception_from_error(const std::vector<ValidationIssue>& issues,
                                                    const boost::source_location& location) {
  boost::throw_exception(
      std::invalid_argument("request validation failed: " + std::to_string(issues.size()) +
                            " issue(s), first: " + (issues.empty() ? "none" : issues[0].type)),
      location);
}

}  // namespace cms::api
