#pragma once
// Running a completion on a worker (or on the stopping thread), shared by every backend.

#include "quay/runtime/completion.hpp"

namespace quay::detail {

/// Invokes `c` with its recorded result. An exception that escapes it is logged on the
/// `runtime` logger and goes no further: a worker survives any completion.
void run_completion(completion* c) noexcept;
/// Invokes `c` with errc::aborted (shutdown), with the same containment.
void run_completion_aborted(completion* c) noexcept;

}  // namespace quay::detail
