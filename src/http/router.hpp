// File: http/router.hpp
//
// Router: maps (method, exact path) to a Handler. Built once at startup, then read-only
// and safe to share between threads. Handlers are borrowed: they must outlive the router.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/exchange.hpp"

namespace cms::http {

class Router {
 public:
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    Handler* handler = nullptr;  // Set when kFound.
    std::string allow;           // The path's methods, "GET, POST", when kMethodNotAllowed.
  };

  // REQUIRES: no route for (method, path) yet; `handler` outlives the router.
  void Add(bhttp::verb method, std::string path, Handler& handler);

  [[nodiscard]] Match Find(bhttp::verb method, std::string_view path) const;
  // True when some route has this path (CORS preflight answers only for known paths).
  [[nodiscard]] bool HasPath(std::string_view path) const;

 private:
  struct Route {
    bhttp::verb method;
    Handler* handler;
  };
  // Transparent hashing: lookups by string_view allocate nothing on the request path.
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view path) const noexcept {
      return std::hash<std::string_view>{}(path);
    }
  };
  std::unordered_map<std::string, std::vector<Route>, PathHash, std::equal_to<>> routes_;
};

}  // namespace cms::http
