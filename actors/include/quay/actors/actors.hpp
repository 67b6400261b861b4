#pragma once
/// The actor SDK in one include: actors, handles, the system, tasks and results.

#include "quay/actors/actor.hpp"      // IWYU pragma: export
#include "quay/actors/actor_ref.hpp"  // IWYU pragma: export
#include "quay/actors/error.hpp"      // IWYU pragma: export
#include "quay/actors/result.hpp"     // IWYU pragma: export
#include "quay/actors/system.hpp"     // IWYU pragma: export
#include "quay/actors/task.hpp"       // IWYU pragma: export
