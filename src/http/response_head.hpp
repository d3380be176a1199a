// File: http/response_head.hpp
//
// ResponseHead: an HTTP/1.1 response head written straight into one string ("HTTP/1.1 200
// OK\r\nName: value\r\n...\r\n"), so a response leaves in one gather write of head and body
// without Beast's generic serializer, which cost about a tenth of the instructions of a whole
// proxied request. Not thread-safe; one per response.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cms::http {

// Extra response headers, in order. Names and values must not contain CR or LF.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

class ResponseHead {
 public:
  // `version` as Beast counts it: 11 for HTTP/1.1, 10 for HTTP/1.0.
  ResponseHead(unsigned status, unsigned version);

  // REQUIRES: neither contains CR or LF (our own values, validated request ids and origins,
  // header values that Beast's parser accepted).
  void Add(std::string_view name, std::string_view value);
  void AddContentLength(std::size_t length);

  // The complete head, ending with the blank line. The builder is spent afterwards.
  [[nodiscard]] std::string Finish();

 private:
  std::string text_;
};

}  // namespace cms::http
