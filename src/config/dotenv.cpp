#include "config/dotenv.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include <boost/system/errc.hpp>

namespace cms::config {

namespace {

constexpr std::string_view kBlanks = " \t";

std::string_view TrimLeft(std::string_view text) {
  const auto start = text.find_first_not_of(kBlanks);
  return start == std::string_view::npos ? std::string_view{} : text.substr(start);
}

std::string_view TrimRight(std::string_view text) {
  const auto end = text.find_last_not_of(kBlanks);
  return end == std::string_view::npos ? std::string_view{} : text.substr(0, end + 1);
}

std::string_view Trim(std::string_view text) { return TrimRight(TrimLeft(text)); }

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  const auto is_letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!is_letter(name[0]) && name[0] != '_') return false;
  for (const char c : name) {
    if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '_') return false;
  }
  return true;
}

// What may follow a closing quote: nothing, or a comment.
bool IsAllowedAfterQuote(std::string_view trailer) {
  const std::string_view rest = TrimLeft(trailer);
  return rest.empty() || rest.front() == '#';
}

// The parsed value, or the problem's text (which never quotes the value).
using ValueOrProblem = std::variant<std::string, std::string>;
constexpr std::size_t kValue = 0;
constexpr std::size_t kProblem = 1;

ValueOrProblem Problem(std::string text) {
  return ValueOrProblem{std::in_place_index<kProblem>, std::move(text)};
}
ValueOrProblem Value(std::string text) {
  return ValueOrProblem{std::in_place_index<kValue>, std::move(text)};
}

ValueOrProblem ParseSingleQuoted(std::string_view text, std::string_view name) {
  const auto close = text.find('\'', 1);
  if (close == std::string_view::npos) {
    return Problem("unterminated single-quoted value for " + std::string(name));
  }
  if (!IsAllowedAfterQuote(text.substr(close + 1))) {
    return Problem("unexpected text after the closing quote of " + std::string(name));
  }
  return Value(std::string(text.substr(1, close - 1)));
}

ValueOrProblem ParseDoubleQuoted(std::string_view text, std::string_view name) {
  std::string value;
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      if (!IsAllowedAfterQuote(text.substr(i + 1))) {
        return Problem("unexpected text after the closing quote of " + std::string(name));
      }
      return Value(std::move(value));
    }
    if (c != '\\' || i + 1 == text.size()) {
      value.push_back(c);
      continue;
    }
    const char escaped = text[++i];
    switch (escaped) {
      case 'n':
        value.push_back('\n');
        break;
      case 'r':
        value.push_back('\r');
        break;
      case 't':
        value.push_back('\t');
        break;
      case '"':
      case '\'':
      case '\\':
        value.push_back(escaped);
        break;
      default:
        // Kept as written, so a Windows path like "C:\dir" survives.
        value.push_back('\\');
        value.push_back(escaped);
        break;
    }
  }
  return Problem("unterminated double-quoted value for " + std::string(name));
}

std::string ParseUnquoted(std::string_view text) {
  // A '#' starts a comment only after a blank, so "pa#ss" stays one value.
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (IsBlank(text[i]) && text[i + 1] == '#') {
      text = text.substr(0, i);
      break;
    }
  }
  return std::string(Trim(text));
}

ValueOrProblem ParseValue(std::string_view raw, std::string_view name) {
  const std::string_view text = TrimLeft(raw);
  if (!text.empty() && text.front() == '\'') return ParseSingleQuoted(text, name);
  if (!text.empty() && text.front() == '"') return ParseDoubleQuoted(text, name);
  return Value(ParseUnquoted(raw));
}

// Strips "export " (the shell keyword) when it prefixes an assignment.
std::string_view StripExport(std::string_view text) {
  constexpr std::string_view kExport = "export";
  if (text.size() > kExport.size() && text.substr(0, kExport.size()) == kExport &&
      IsBlank(text[kExport.size()])) {
    return TrimLeft(text.substr(kExport.size()));
  }
  return text;
}

// Parses one line (without its line terminator) into `contents`.
void ParseLine(std::string_view line, std::size_t line_number, DotenvContents& contents) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view text = TrimLeft(line);
  if (text.empty() || text.front() == '#') return;
  text = StripExport(text);

  const auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    contents.problems.push_back({line_number, "expected KEY=VALUE"});
    return;
  }
  const std::string_view name = TrimRight(text.substr(0, equals));
  if (!IsValidName(name)) {
    contents.problems.push_back(
        {line_number,
         "invalid variable name (letters, digits and underscores, not starting with a digit)"});
    return;
  }
  auto value = ParseValue(text.substr(equals + 1), name);
  if (value.index() == kProblem) {
    contents.problems.push_back({line_number, std::move(std::get<kProblem>(value))});
    return;
  }
  contents.entries.push_back({std::string(name), std::move(std::get<kValue>(value)), line_number});
}

}  // namespace

DotenvContents ParseDotenv(std::string_view text) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());

  DotenvContents contents;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    ParseLine(text.substr(0, newline), line_number, contents);
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return contents;
}

boost::system::result<DotenvContents> ReadDotenvFile(const std::filesystem::path& path) {
  const auto close_file = [](std::FILE* file) { std::fclose(file); };
  const std::unique_ptr<std::FILE, decltype(close_file)> file(std::fopen(path.c_str(), "rb"),
                                                              close_file);
  if (!file) {
    const int error = errno;
    // No .env file is the normal production case: settings come from the environment.
    if (error == ENOENT) return DotenvContents{};
    return boost::system::error_code(error, boost::system::generic_category());
  }
  std::string text;
  std::array<char, 4096> buffer{};
  errno = 0;
  while (true) {
    const std::size_t count = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), count);
    if (count < buffer.size()) break;
  }
  if (std::ferror(file.get()) != 0) {
    // fread reports failure (EISDIR for a directory, EIO) through errno.
    const int error = errno != 0 ? errno : EIO;
    return boost::system::error_code(error, boost::system::generic_category());
  }
  return ParseDotenv(text);
}

}  // namespace cms::config
