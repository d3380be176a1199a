#include "api/validation_issue.hpp"

#include <charconv>

#include "core/json_escape.hpp"

namespace cms::api {
namespace {

void AppendLocItem(std::string& out, const LocItem& item) {
  if (const auto* name = std::get_if<std::string>(&item)) {
    core::AppendJsonString(out, *name);
    return;
  }
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, std::get<std::int64_t>(item)).ptr;
  out.append(digits, end);
}

void AppendIssue(std::string& out, const ValidationIssue& issue) {
  out += R"({"type":)";
  core::AppendJsonString(out, issue.type);
  out += R"(,"loc":[)";
  for (std::size_t i = 0; i < issue.loc.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendLocItem(out, issue.loc[i]);
  }
  out += R"(],"msg":)";
  core::AppendJsonString(out, issue.msg);
  out.push_back('}');
}

}  // namespace

std::string RenderValidationBody(const std::vector<ValidationIssue>& issues,
                                 std::string_view request_id) {
  std::string out;
  out.reserve(32 + request_id.size() + issues.size() * 128);
  out += R"({"detail":[)";
  for (std::size_t i = 0; i < issues.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendIssue(out, issues[i]);
  }
  out.push_back(']');
  if (!request_id.empty()) {
    out += R"(,"request_id":)";
    core::AppendJsonString(out, request_id);
  }
  out.push_back('}');
  return out;
}

}  // namespace cms::api
