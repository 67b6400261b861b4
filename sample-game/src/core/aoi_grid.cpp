// The AOI grid: change recording during a tick, and the flush that turns changes into batches.
#include "quay/game/aoi_grid.hpp"

#include <algorithm>
#include <cmath>

namespace quay::game {

aoi_grid::aoi_grid(const aoi_config& config) : config_(config) {
  if (!(config_.cell_size > 0.0f)) {
    config_.cell_size = 1.0f;
  }
  config_.width = std::max(config_.width, config_.cell_size);
  config_.height = std::max(config_.height, config_.cell_size);
  config_.radius_cells = std::max(config_.radius_cells, 0);
  // A point exactly on the far edge belongs to the last cell, hence floor + 1 (clamped below).
  columns_ = static_cast<int>(std::ceil(config_.width / config_.cell_size));
  rows_ = static_cast<int>(std::ceil(config_.height / config_.cell_size));
  cells_.resize(static_cast<std::size_t>(columns_) * static_cast<std::size_t>(rows_));
  batch_of_cell_.assign(cells_.size(), no_cell);
}

int aoi_grid::cell_x(float x) const {
  const int c = static_cast<int>(std::floor(x / config_.cell_size));
  return std::clamp(c, 0, columns_ - 1);
}

int aoi_grid::cell_y(float y) const {
  const int c = static_cast<int>(std::floor(y / config_.cell_size));
  return std::clamp(c, 0, rows_ - 1);
}

bool aoi_grid::in_window(std::uint32_t c, std::uint32_t centre) const {
  if (c == no_cell || centre == no_cell) {
    return false;
  }
  const int cx = static_cast<int>(c) % columns_;
  const int cy = static_cast<int>(c) / columns_;
  const int ox = static_cast<int>(centre) % columns_;
  const int oy = static_cast<int>(centre) / columns_;
  return std::abs(cx - ox) <= config_.radius_cells && std::abs(cy - oy) <= config_.radius_cells;
}

void aoi_grid::link(entity_id id, slot& s, std::uint32_t c) {
  cell& target = cells_[c];
  s.cell = c;
  s.index_in_cell = static_cast<std::uint32_t>(target.members.size());
  target.members.push_back({id, &s});
  if (s.observer) {
    ++target.observers;
  }
}

void aoi_grid::unlink(slot& s) {
  cell& source = cells_[s.cell];
  // Swap-remove: the last member takes the freed place and learns its new index.
  const member last = source.members.back();
  source.members[s.index_in_cell] = last;
  last.s->index_in_cell = s.index_in_cell;
  source.members.pop_back();
  if (s.observer) {
    --source.observers;
  }
}

void aoi_grid::mark_changed(entity_id id, slot& s) {
  s.dirty = true;
  if (!s.changed) {
    s.changed = true;
    changed_.push_back(id);
  }
}

bool aoi_grid::add(entity_id id, vec2 pos, bool observer) {
  if (id == no_entity) {
    return false;
  }
  const auto [it, inserted] = entities_.try_emplace(id);
  if (!inserted) {
    return false;
  }
  slot& s = it->second;
  s.pos = pos;
  s.observer = observer;
  link(id, s, cell_of(pos));
  mark_changed(id, s);
  ++present_;
  return true;
}

bool aoi_grid::remove(entity_id id) {
  const auto it = entities_.find(id);
  if (it == entities_.end() || it->second.removed) {
    return false;
  }
  slot& s = it->second;
  unlink(s);
  --present_;
  if (s.prev_cell == no_cell) {
    // Added and removed within one tick: nobody ever saw it, so it leaves no trace.
    entities_.erase(it);
    return true;
  }
  s.removed = true;
  s.cell = no_cell;
  if (!s.departed) {
    // Recorded once per tick, in the cell it was seen in at the last flush.
    s.departed = true;
    cells_[s.prev_cell].departed.push_back({id, &s});
    departed_cells_.push_back(s.prev_cell);
  }
  mark_changed(id, s);
  return true;
}

bool aoi_grid::move(entity_id id, vec2 pos) {
  const auto it = entities_.find(id);
  if (it == entities_.end() || it->second.removed) {
    return false;
  }
  slot& s = it->second;
  s.pos = pos;
  const std::uint32_t c = cell_of(pos);
  if (c != s.cell) {
    if (!s.departed && s.prev_cell != no_cell) {
      s.departed = true;
      cells_[s.prev_cell].departed.push_back({id, &s});
      departed_cells_.push_back(s.prev_cell);
    }
    unlink(s);
    link(id, s, c);
  }
  mark_changed(id, s);
  return true;
}

bool aoi_grid::touch(entity_id id) {
  const auto it = entities_.find(id);
  if (it == entities_.end() || it->second.removed) {
    return false;
  }
  mark_changed(id, it->second);
  return true;
}

std::optional<vec2> aoi_grid::position(entity_id id) const {
  const auto it = entities_.find(id);
  if (it == entities_.end() || it->second.removed) {
    return std::nullopt;
  }
  return it->second.pos;
}

bool aoi_grid::contains(entity_id id) const {
  const auto it = entities_.find(id);
  return it != entities_.end() && !it->second.removed;
}

std::vector<entity_id> aoi_grid::visible_to(entity_id observer) const {
  std::vector<entity_id> out;
  const auto it = entities_.find(observer);
  if (it == entities_.end() || it->second.removed) {
    return out;
  }
  for_window(it->second.cell, [&](std::uint32_t c) {
    for (const member& m : cells_[c].members) {
      if (m.id != observer) {
        out.push_back(m.id);
      }
    }
  });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace quay::game
