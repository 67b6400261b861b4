#pragma once
// Area of interest on a uniform grid. The zone is cut into square cells; an observer sees every
// entity in the (2r+1) x (2r+1) window of cells centred on its own cell. Changes made during a
// tick (add, remove, move, touch) are only recorded; flush() turns them into enter / leave /
// update events, batched per tick.
//
// Batching: every observer that stayed in the same cell since the last flush sees exactly the
// same changes as every other observer in that cell (their windows are identical), so those
// observers share one batch per cell, which the caller encodes once and sends to all of them.
// Only observers that changed cell or appeared get a personal batch.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "quay/game/types.hpp"

namespace quay::game {

/// Grid geometry. Cells are square; the grid covers [0, width] x [0, height].
struct aoi_config {
  float width = 1000.0f;
  float height = 1000.0f;
  float cell_size = 50.0f;
  /// Interest radius in cells: 1 means the 3x3 window around the observer's cell.
  int radius_cells = 1;
};

/// The changes one observer (or one cell's worth of observers) must learn about in one tick.
struct aoi_batch {
  std::vector<entity_id> enters;   ///< became visible: send their full state
  std::vector<entity_id> leaves;   ///< no longer visible (out of range or gone)
  std::vector<entity_id> updates;  ///< visible before and after, and moved or changed state

  bool empty() const { return enters.empty() && leaves.empty() && updates.empty(); }
};

/// A batch shared by every observer that stayed in `cell` since the previous flush.
/// `updates` may include an observer's own id (its authoritative position).
struct aoi_shared_batch {
  std::uint32_t cell = 0;
  aoi_batch batch;
  std::vector<entity_id> observers;
};

/// A batch for one observer that appeared or changed cell this tick.
struct aoi_personal_batch {
  entity_id observer = no_entity;
  aoi_batch batch;
};

/// Everything one flush produced. Batches with no events are left out.
struct aoi_events {
  std::vector<aoi_shared_batch> shared;
  std::vector<aoi_personal_batch> personal;
};

/// The grid. Owner only: one zone actor (or one test) drives it; no method is thread-safe.
class aoi_grid {
public:
  /// Builds an empty grid; non-positive sizes are raised to one cell.
  explicit aoi_grid(const aoi_config& config);

  /// Adds an entity at `pos` (clamped into the grid). Observers receive batches. Returns false
  /// when the id is already present (also when it was removed this tick and not yet flushed).
  bool add(entity_id id, vec2 pos, bool observer);

  /// Removes an entity; its observers see it leave at the next flush. False when unknown.
  bool remove(entity_id id);

  /// Moves an entity (clamped into the grid). False when unknown.
  bool move(entity_id id, vec2 pos);

  /// Marks an entity's state as changed without moving it (hp, level): it appears in updates.
  bool touch(entity_id id);

  /// Computes this tick's events into `out` and starts a new tick. `out`'s previous contents
  /// are recycled (their capacity is reused), so pass the same aoi_events every tick.
  void flush(aoi_events& out);

  /// The entity's current position, if present.
  std::optional<vec2> position(entity_id id) const;

  /// True when `id` is present (removed-but-unflushed entities are not present).
  bool contains(entity_id id) const;

  /// Number of present entities.
  std::size_t size() const { return present_; }

  /// The ids currently in the observer's window (itself excluded), sorted. For tests and for
  /// the first snapshot; the per-tick path uses flush().
  std::vector<entity_id> visible_to(entity_id observer) const;

  /// Calls f(id, pos) for every present entity within `radius` metres of `center`.
  template <typename F>
  void for_each_near(vec2 center, float radius, F&& f) const {
    const int x0 = cell_x(center.x - radius);
    const int x1 = cell_x(center.x + radius);
    const int y0 = cell_y(center.y - radius);
    const int y1 = cell_y(center.y + radius);
    const float r2 = radius * radius;
    for (int cy = y0; cy <= y1; ++cy) {
      for (int cx = x0; cx <= x1; ++cx) {
        for (const member& m : cells_[index(cx, cy)].members) {
          if (distance_sq(m.s->pos, center) <= r2) {
            f(m.id, m.s->pos);
          }
        }
      }
    }
  }

  /// The cell index of a point (clamped into the grid).
  std::uint32_t cell_of(vec2 p) const { return index(cell_x(p.x), cell_y(p.y)); }

  /// Grid width and height in cells.
  int columns() const { return columns_; }
  int rows() const { return rows_; }

private:
  static constexpr std::uint32_t no_cell = 0xffffffffu;

  struct slot {
    vec2 pos;
    std::uint32_t cell = no_cell;       // current cell (no_cell once removed)
    std::uint32_t prev_cell = no_cell;  // cell at the previous flush (no_cell if spawned since)
    std::uint32_t index_in_cell = 0;
    bool observer = false;
    bool changed = false;  // listed in changed_ this tick
    bool dirty = false;    // moved or touched this tick
    bool removed = false;
    bool departed = false;  // listed in its previous cell's departed list this tick
  };

  // A cell lists its entities with a pointer to their slot: unordered_map nodes never move,
  // and the flush reads neighbours' slots thousands of times per tick without hashing.
  struct member {
    entity_id id;
    slot* s;
  };

  struct cell {
    std::vector<member> members;
    std::vector<member> departed;  // left this cell (moved or removed) since the last flush
    std::uint32_t observers = 0;
  };

  int cell_x(float x) const;
  int cell_y(float y) const;
  std::uint32_t index(int cx, int cy) const {
    return static_cast<std::uint32_t>(cy * columns_ + cx);
  }
  bool in_window(std::uint32_t c, std::uint32_t centre) const;
  void link(entity_id id, slot& s, std::uint32_t c);
  void unlink(slot& s);
  void mark_changed(entity_id id, slot& s);
  aoi_batch& cell_batch(std::uint32_t c, aoi_events& out);
  void recycle(aoi_shared_batch&& b);
  template <typename F>
  void for_window(std::uint32_t centre, F&& f) const;
  void personal_batch(entity_id id, const slot& s, aoi_batch& b) const;

  aoi_config config_;
  int columns_ = 1;
  int rows_ = 1;
  std::vector<cell> cells_;
  std::unordered_map<entity_id, slot> entities_;
  std::vector<entity_id> changed_;
  std::vector<std::uint32_t> departed_cells_;
  std::vector<std::uint32_t> batch_of_cell_;  // index into out.shared, or no_cell
  std::vector<std::uint32_t> batched_cells_;
  std::vector<aoi_shared_batch> spare_;  // emptied batches whose capacity the next flush reuses
  std::size_t present_ = 0;
};

// Calls f(cell) for every cell of the window centred on `centre`, clipped to the grid.
template <typename F>
inline void aoi_grid::for_window(std::uint32_t centre, F&& f) const {
  const int ox = static_cast<int>(centre) % columns_;
  const int oy = static_cast<int>(centre) / columns_;
  const int r = config_.radius_cells;
  const int y0 = std::max(oy - r, 0);
  const int y1 = std::min(oy + r, rows_ - 1);
  const int x0 = std::max(ox - r, 0);
  const int x1 = std::min(ox + r, columns_ - 1);
  for (int cy = y0; cy <= y1; ++cy) {
    for (int cx = x0; cx <= x1; ++cx) {
      f(index(cx, cy));
    }
  }
}

}  // namespace quay::game
