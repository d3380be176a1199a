// File: config/dotenv.hpp
//
// Parses a `.env` file: the development convenience of keeping settings in a file in the
// working directory. The format is the common subset of python-dotenv and Docker Compose:
//
//   # a comment line                     blank lines are ignored too
//   KEY=value                            unquoted: trimmed; " #..." starts a comment
//   export KEY=value                     an optional `export ` prefix (shell-compatible)
//   KEY='literal $ \n #'                 single quotes: taken verbatim
//   KEY="line\nnext \"quoted\" \\"       double quotes: \n \r \t \" \' \\ are escapes;
//                                        any other backslash is kept as written
//   KEY=                                 an empty value
//
// Names are [A-Za-z_][A-Za-z0-9_]*; spaces around '=' are allowed; a quoted value may be
// followed only by spaces and a comment. Values span one line (write \n for a newline).
//
// A malformed line is a problem carrying its 1-based line number; parsing continues so all
// problems are reported at once. A problem's text never contains the line's value (it may be
// a secret), nor the text of a line whose name is not valid (it may be a pasted secret).
//
// Pure functions apart from ReadDotenvFile's read; safe from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace cms::config {

struct DotenvEntry {
  std::string key;
  std::string value;
  std::size_t line = 0;  // 1-based line number in the file.
};

struct DotenvProblem {
  std::size_t line = 0;  // 1-based line number in the file.
  std::string message;   // e.g. "unterminated double-quoted value for API_KEY".
};

struct DotenvContents {
  std::vector<DotenvEntry> entries;     // In file order; a repeated key appears twice.
  std::vector<DotenvProblem> problems;  // Empty when every line was well formed.
};

// Parses `text` (LF or CRLF line endings; a UTF-8 byte order mark is skipped).
DotenvContents ParseDotenv(std::string_view text);

// Reads and parses the file at `path`. A file that does not exist is not an error: the
// result is empty contents. Any other failure to read it (permissions, a directory) is the
// operating system's error code.
boost::system::result<DotenvContents> ReadDotenvFile(const std::filesystem::path& path);

}  // namespace cms::config
