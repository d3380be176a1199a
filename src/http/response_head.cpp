#include "http/response_head.hpp"

#include <charconv>

#include <boost/beast/http/status.hpp>

namespace cms::http {

ResponseHead::ResponseHead(unsigned status, unsigned version) {
  text_.reserve(256);
  text_ += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char digits[4] = {};
  const auto end = std::to_chars(digits, digits + sizeof digits, status).ptr;
  text_.append(digits, end);
  text_ += ' ';
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  // Beast has no phrase for codes it does not know (499, 529): the phrase is optional text.
  text_ += reason == "<unknown-status>" ? std::string_view("Unknown") : std::string_view(reason);
  text_ += "\r\n";
}

void ResponseHead::Add(std::string_view name, std::string_view value) {
  text_ += name;
  text_ += ": ";
  text_ += value;
  text_ += "\r\n";
}

void ResponseHead::AddContentLength(std::size_t length) {
  char digits[24] = {};
  const auto end = std::to_chars(digits, digits + sizeof digits, length).ptr;
  Add("Content-Length", std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

std::string ResponseHead::Finish() {
  text_ += "\r\n";
  return std::move(text_);
}

}  // namespace cms::http
