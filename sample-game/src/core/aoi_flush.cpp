// aoi_grid::flush: turns the changes recorded during a tick into shared and personal batches.
//
// Push for the shared batches: each changed entity adds itself to the batch of every observed
// cell whose window it entered, left or moved within — cost proportional to the changes, not to
// observers x visible entities. Pull for the personal batches: an observer that changed cell
// from A to B compares what window(B) holds now with what window(A) held at the last flush,
// using each entity's previous cell and the per-cell lists of departures.
#include <algorithm>

#include "quay/game/aoi_grid.hpp"

namespace quay::game {

aoi_batch& aoi_grid::cell_batch(std::uint32_t c, aoi_events& out) {
  std::uint32_t& slot_index = batch_of_cell_[c];
  if (slot_index == no_cell) {
    slot_index = static_cast<std::uint32_t>(out.shared.size());
    if (spare_.empty()) {
      out.shared.emplace_back();
    } else {
      out.shared.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
    out.shared.back().cell = c;
    batched_cells_.push_back(c);
  }
  return out.shared[slot_index].batch;
}

void aoi_grid::personal_batch(entity_id self, const slot& s, aoi_batch& b) const {
  const std::uint32_t from = s.prev_cell;  // no_cell when the observer appeared this tick
  const std::uint32_t to = s.cell;
  const auto seen_before = [&](const slot& other) {
    return other.prev_cell != no_cell && in_window(other.prev_cell, from);
  };
  // Everything in the new window: an update if it was already visible, else an enter.
  for_window(to, [&](std::uint32_t c) {
    for (const member& m : cells_[c].members) {
      const entity_id id = m.id;
      if (id == self) {
        continue;
      }
      const slot& other = *m.s;
      if (!seen_before(other)) {
        b.enters.push_back(id);
      } else if (other.dirty) {
        b.updates.push_back(id);
      }
    }
  });
  if (from == no_cell) {
    return;
  }
  // What was visible and is not any more: still inside the old window but outside the new one,
  // or departed from the old window to somewhere outside both (or removed).
  for_window(from, [&](std::uint32_t c) {
    const bool also_new = in_window(c, to);
    if (!also_new) {
      for (const member& m : cells_[c].members) {
        if (m.id != self && seen_before(*m.s)) {
          b.leaves.push_back(m.id);
        }
      }
    }
    for (const member& m : cells_[c].departed) {
      if (m.id == self) {
        continue;
      }
      const slot& other = *m.s;
      if (other.removed || (!in_window(other.cell, from) && !in_window(other.cell, to))) {
        b.leaves.push_back(m.id);
      }
    }
  });
}

void aoi_grid::recycle(aoi_shared_batch&& b) {
  b.batch.enters.clear();
  b.batch.leaves.clear();
  b.batch.updates.clear();
  b.observers.clear();
  spare_.push_back(std::move(b));
}

void aoi_grid::flush(aoi_events& out) {
  // The previous flush's batches keep their capacity for this one: no allocation per cell per
  // tick once the zone has warmed up.
  for (auto& b : out.shared) {
    recycle(std::move(b));
  }
  out.shared.clear();
  out.personal.clear();

  // Shared batches, pushed by each change to the observed cells it concerns.
  // Entities added and removed within this tick are already gone from entities_; skip them.
  std::erase_if(changed_, [&](entity_id id) { return !entities_.contains(id); });
  for (const entity_id id : changed_) {
    const slot& s = entities_.find(id)->second;
    const std::uint32_t from = s.prev_cell;
    const std::uint32_t to = s.removed ? no_cell : s.cell;
    if (from == to) {
      for_window(to, [&](std::uint32_t c) {
        if (cells_[c].observers != 0) {
          cell_batch(c, out).updates.push_back(id);
        }
      });
      continue;
    }
    if (from != no_cell) {
      for_window(from, [&](std::uint32_t c) {
        if (cells_[c].observers == 0) {
          return;
        }
        if (in_window(c, to)) {
          cell_batch(c, out).updates.push_back(id);
        } else {
          cell_batch(c, out).leaves.push_back(id);
        }
      });
    }
    if (to != no_cell) {
      for_window(to, [&](std::uint32_t c) {
        if (cells_[c].observers != 0 && !in_window(c, from)) {
          cell_batch(c, out).enters.push_back(id);
        }
      });
    }
  }

  // Who reads the shared batches: the observers that stayed in the batch's cell.
  for (auto& shared : out.shared) {
    for (const member& m : cells_[shared.cell].members) {
      if (m.s->observer && m.s->prev_cell == m.s->cell) {
        shared.observers.push_back(m.id);
      }
    }
  }
  // Batches nobody stayed to read go back to the spare pool with the others.
  const auto unread = std::partition(out.shared.begin(), out.shared.end(),
                                     [](const aoi_shared_batch& b) { return !b.observers.empty(); });
  for (auto it = unread; it != out.shared.end(); ++it) {
    recycle(std::move(*it));
  }
  out.shared.erase(unread, out.shared.end());

  // Personal batches for observers that appeared or changed cell.
  for (const entity_id id : changed_) {
    const slot& s = entities_.find(id)->second;
    if (s.observer && !s.removed && s.prev_cell != s.cell) {
      aoi_personal_batch p;
      p.observer = id;
      personal_batch(id, s, p.batch);
      if (!p.batch.empty() || s.prev_cell == no_cell) {
        out.personal.push_back(std::move(p));
      }
    }
  }

  // Start the next tick: what is now becomes what was seen.
  for (const entity_id id : changed_) {
    const auto it = entities_.find(id);
    if (it->second.removed) {
      entities_.erase(it);
      continue;
    }
    slot& s = it->second;
    s.prev_cell = s.cell;
    s.changed = false;
    s.dirty = false;
    s.departed = false;
  }
  changed_.clear();
  for (const std::uint32_t c : departed_cells_) {
    cells_[c].departed.clear();
  }
  departed_cells_.clear();
  for (const std::uint32_t c : batched_cells_) {
    batch_of_cell_[c] = no_cell;
  }
  batched_cells_.clear();
}

}  // namespace quay::game
