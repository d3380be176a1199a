#include "http/router.hpp"

#include <stdexcept>

namespace cms::http {

void Router::Add(bhttp::verb method, std::string path, Handler& handler) {
  auto& routes = routes_[std::move(path)];
  for (const Route& route : routes) {
    if (route.method == method) throw std::logic_error("duplicate route");
  }
  routes.push_back(Route{method, &handler});
}

Router::Match Router::Find(bhttp::verb method, std::string_view path) const {
  const auto it = routes_.find(path);
  if (it == routes_.end()) return Match{};
  Match match;
  for (const Route& route : it->second) {
    if (route.method == method) {
      match.outcome = Outcome::kFound;
      match.handler = route.handler;
      return match;
    }
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += std::string(bhttp::to_string(route.method));
  }
  match.outcome = Outcome::kMethodNotAllowed;
  return match;
}

bool Router::HasPath(std::string_view path) const { return routes_.find(path) != routes_.end(); }

}  // namespace cms::http
