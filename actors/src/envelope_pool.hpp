#pragma once
// The envelope pool's internal view (the allocation functions themselves are declared in
// quay/actors/detail/envelope.hpp, where the send templates need them).

#include <cstddef>

namespace quay::detail {

/// Fully idle page blocks each envelope class keeps for the next burst, besides the block it is
/// carving; idle blocks beyond them go back to the OS.
inline constexpr std::size_t envelope_pool_idle_reserve = 2;

/// Page blocks the envelope pool holds now (both classes). Thread-safe.
std::size_t envelope_pool_blocks() noexcept;

}  // namespace quay::detail
