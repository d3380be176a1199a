// File: api/request_document.hpp
//
// Parses a completion request body (RFC 8259 JSON, strict: no comments, no trailing
// commas, no NaN, well-formed UTF-8 only) into a JsonNode tree that keeps only what the
// validator reads:
//
//   - the top-level object's members messages, system, model, max_tokens, temperature and
//     cache_system (other members are parsed, checked for syntax, and dropped);
//   - the first kMaxRetainedMessages items of "messages" (the array's full length is
//     still counted);
//   - in each message object, its role and content members.
//
// Every other value is reduced to its kind (and, for containers, element count). So an
// 8 MiB body of unknown fields or of a million array items costs a parse, not a tree, and
// strings that are kept are unescaped straight into std::string, ready to be moved into
// the domain request without another copy.
//
// Duplicate keys: the last occurrence wins, as with Python's json module.
//
// Thread safety: pure function; the returned tree is an ordinary value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace cms::api {

// Member names of a completion request (CONTRACT.md section 3).
inline constexpr std::string_view kMessagesField = "messages";
inline constexpr std::string_view kSystemField = "system";
inline constexpr std::string_view kModelField = "model";
inline constexpr std::string_view kMaxTokensField = "max_tokens";
inline constexpr std::string_view kTemperatureField = "temperature";
inline constexpr std::string_view kCacheSystemField = "cache_system";
inline constexpr std::string_view kRoleField = "role";
inline constexpr std::string_view kContentField = "content";

// The contract allows at most 50 messages; beyond that only the count matters.
inline constexpr std::size_t kMaxRetainedMessages = 50;

// Nesting deeper than this is a syntax error. The schema needs 3 levels; the margin keeps
// callers' unknown nested fields working without letting a body exhaust the stack.
inline constexpr std::size_t kMaxJsonDepth = 64;

enum class JsonKind { kNull, kBool, kInt64, kUint64, kDouble, kString, kArray, kObject };

struct JsonMember;

// One JSON value. Integers that fit int64 are kInt64; larger positive ones that fit
// uint64 are kUint64; every other number is kDouble (possibly infinite, e.g. 1e400).
struct JsonNode {
  JsonKind kind = JsonKind::kNull;
  bool boolean = false;             // kBool
  std::int64_t int64 = 0;           // kInt64
  std::uint64_t uint64 = 0;         // kUint64
  double number = 0.0;              // kDouble
  std::string string;               // kString (kept strings only; dropped ones stay empty)
  std::size_t size = 0;             // kArray, kObject: element count, kept or not
  std::vector<JsonNode> items;      // kArray: the kept prefix of the items
  std::vector<JsonMember> members;  // kObject: the kept members, keys unique

  // The kept member named `key`, or nullptr when the object has none (or drops it).
  [[nodiscard]] JsonNode* Find(std::string_view key);
};

struct JsonMember {
  std::string key;
  JsonNode value;
};

// Why a body is not JSON: where the parser stopped (a byte offset into the body) and
// the parser's reason (for logs; callers see only the offset).
struct JsonSyntaxError {
  std::size_t offset = 0;
  boost::system::error_code reason;
};

[[noreturn]] void throw_exception_from_error(const JsonSyntaxError& error,
                                             const boost::source_location& location);

// The tree of `body`, or where it stops being one JSON value: a syntax error, invalid
// UTF-8 (also via \u escapes of lone surrogates), nesting past kMaxJsonDepth, an empty
// body or a truncated one (offset = body.size()), or non-whitespace after the value
// (offset of its first byte).
[[nodiscard]] boost::system::result<JsonNode, JsonSyntaxError> ParseRequestDocument(
    std::string_view body);

}  // namespace cms::api
