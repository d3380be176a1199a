// File: store/key_store.hpp
//
// KeyStore: decides whether an X-API-Key a caller presented is one of ours, and if so who
// the caller is (CONTRACT.md section 2). The handler asks before parsing the body; it
// answers 401 itself for a missing or empty header, so implementations see non-empty keys
// in practice, and must still reject an empty one.
//
//   auto caller = co_await key_store.Authenticate(presented_key);
//   if (!caller) -> 503 (store unreachable), log caller.error().log_message
//   else if (!*caller) -> 403 {"detail":"Invalid API key"}
//   else -> proceed as (*caller)->key_id
//
// Contract:
// - Keys are compared in constant time: how long Authenticate takes does not depend on
//   which accepted key (if any) matched or how many leading bytes matched.
// - Keys are secrets: implementations keep only digests, and never put a key in a log
//   message, an error or a metric. Caller::key_id is a fingerprint that is safe to log.
//
// Thread safety: one instance is shared by every I/O thread; implementations synchronise
// internally. Authenticate is a coroutine because a database-backed store suspends; the
// static one completes without suspending.
//
// Outage policy: fail closed. A store that cannot answer returns KeyStoreError and the
// request is rejected; an unreachable store never admits anybody.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "core/net.hpp"

namespace cms::store {

// Who an accepted key belongs to.
struct Caller {
  // The first 12 lowercase hex characters of the SHA-256 of the key
  // (store/key_fingerprint.hpp): stable across restarts and replicas, not reversible, safe
  // for logs, metrics and rate-limit buckets.
  std::string key_id;
};

struct KeyStoreError {
  std::string log_message;  // Why the store could not answer; for the log. Never holds a key.
};

// Lets boost::system::result<T, KeyStoreError>::value() throw on an error.
[[noreturn]] void throw_exception_from_error(const KeyStoreError& error,
                                             const boost::source_location& location);

using AuthenticateResult = boost::system::result<std::optional<Caller>, KeyStoreError>;

class KeyStore {
 public:
  virtual ~KeyStore();

  // The caller that owns `presented_key`, std::nullopt when the key is not accepted
  // (unknown, revoked, or empty), or KeyStoreError when the store cannot tell (fail closed).
  // REQUIRES: `presented_key` stays valid until the returned task completes (the handler
  // co_awaits it at once, and owns the request headers the view points into).
  virtual Task<AuthenticateResult> Authenticate(std::string_view presented_key) = 0;
};

}  // namespace cms::store
