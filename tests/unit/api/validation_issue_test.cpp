#include "api/validation_issue.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <boost/system/result.hpp>
#include <gtest/gtest.h>

namespace cms::api {
namespace {

TEST(RenderValidationBody, WritesPydanticShapeInOrder) {
  const std::vector<ValidationIssue> issues = {
      {"too_short",
       {"body", "messages"},
       "List should have at least 1 item after validation, not 0"},
      {"string_type",
       {"body", "messages", std::int64_t{3}, "content"},
       "Input should be a valid string"},
  };
  EXPECT_EQ(RenderValidationBody(issues),
            R"({"detail":[{"type":"too_short","loc":["body","messages"],)"
            R"("msg":"List should have at least 1 item after validation, not 0"},)"
            R"({"type":"string_type","loc":["body","messages",3,"content"],)"
            R"("msg":"Input should be a valid string"}]})");
}

TEST(RenderValidationBody, AddsRequestIdWhenGiven) {
  const std::vector<ValidationIssue> issues = {
      {"json_invalid", {"body", std::int64_t{0}}, "JSON decode error"}};
  EXPECT_EQ(RenderValidationBody(issues, "req-1"),
            R"({"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error"}],)"
            R"("request_id":"req-1"})");
}

TEST(RenderValidationBody, EscapesStrings) {
  const std::vector<ValidationIssue> issues = {
      {"literal_error", {"body", "we\"ird"}, "Input should be 'user' or 'assistant'"}};
  EXPECT_EQ(RenderValidationBody(issues),
            R"({"detail":[{"type":"literal_error","loc":["body","we\"ird"],)"
            R"("msg":"Input should be 'user' or 'assistant'"}]})");
}

TEST(RenderValidationBody, EmptyListGivesEmptyDetail) {
  EXPECT_EQ(RenderValidationBody({}), R"({"detail":[]})");
}

TEST(ValidationIssueResult, ValueThrowsOnError) {
  const boost::system::result<int, std::vector<ValidationIssue>> result(
      boost::system::in_place_error,
      std::vector<ValidationIssue>{{"missing", {"body", "messages"}, "Field required"}});
  EXPECT_THROW((void)result.value(), std::invalid_argument);
}

}  // namespace
}  // namespace cms::api
