#include "core/completion.hpp"

namespace cms::core {

const char* RoleName(Role role) { return role == Role::kUser ? "user" : "assistant"; }

}  // namespace cms::core
