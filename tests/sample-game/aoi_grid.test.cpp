// AOI grid: enter/leave at cell borders, shared batches per cell, personal batches for
// observers that change cell, and a randomized check against a brute-force model.
#include "quay/game/aoi_grid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "quay/game/rng.hpp"

namespace quay::game {
namespace {

// 10 x 10 cells of 10 m, interest radius one cell: an observer sees its 3x3 window.
aoi_config small_grid() {
  aoi_config c;
  c.width = 100.0f;
  c.height = 100.0f;
  c.cell_size = 10.0f;
  c.radius_cells = 1;
  return c;
}

// Applies a flush's batches to per-observer visible sets, as a client would.
void replay(const aoi_events& ev, std::map<entity_id, std::set<entity_id>>& seen) {
  const auto run = [&](entity_id observer, const aoi_batch& b) {
    auto& s = seen[observer];
    for (const entity_id id : b.leaves) {
      ASSERT_TRUE(s.erase(id)) << "observer " << observer << " told " << id << " left unseen";
    }
    for (const entity_id id : b.enters) {
      ASSERT_TRUE(s.insert(id).second) << "observer " << observer << " told " << id
                                       << " entered twice";
    }
    for (const entity_id id : b.updates) {
      if (id != observer) {
        ASSERT_TRUE(s.count(id)) << "observer " << observer << " updated about unseen " << id;
      }
    }
  };
  for (const auto& shared : ev.shared) {
    for (const entity_id o : shared.observers) {
      run(o, shared.batch);
    }
  }
  for (const auto& p : ev.personal) {
    run(p.observer, p.batch);
  }
}

TEST(aoi_grid, an_observer_sees_entities_in_its_window_and_not_beyond) {
  aoi_grid grid(small_grid());
  grid.add(1, {55.0f, 55.0f}, true);   // cell (5,5)
  grid.add(2, {45.0f, 45.0f}, false);  // cell (4,4): in window
  grid.add(3, {75.0f, 55.0f}, false);  // cell (7,5): two cells away
  aoi_events ev;
  grid.flush(ev);
  ASSERT_EQ(ev.personal.size(), 1u);
  EXPECT_EQ(ev.personal[0].observer, 1u);
  EXPECT_EQ(ev.personal[0].batch.enters, std::vector<entity_id>{2});
  EXPECT_EQ(grid.visible_to(1), std::vector<entity_id>{2});
}

TEST(aoi_grid, crossing_a_cell_border_into_the_window_is_an_enter_for_staying_observers) {
  aoi_grid grid(small_grid());
  grid.add(1, {55.0f, 55.0f}, true);
  grid.add(2, {70.5f, 55.0f}, false);  // cell 7: outside the window 4..6
  aoi_events ev;
  grid.flush(ev);

  grid.move(2, {70.01f, 55.0f});  // still cell 7
  grid.flush(ev);
  EXPECT_TRUE(ev.shared.empty()) << "a move outside every window concerns nobody";

  grid.move(2, {69.99f, 55.0f});  // cell 6: inside
  grid.flush(ev);
  ASSERT_EQ(ev.shared.size(), 1u);
  EXPECT_EQ(ev.shared[0].observers, std::vector<entity_id>{1});
  EXPECT_EQ(ev.shared[0].batch.enters, std::vector<entity_id>{2});
  EXPECT_TRUE(ev.personal.empty());

  grid.move(2, {65.0f, 55.0f});  // moves within the window
  grid.flush(ev);
  ASSERT_EQ(ev.shared.size(), 1u);
  EXPECT_EQ(ev.shared[0].batch.updates, std::vector<entity_id>{2});

  grid.move(2, {70.0f, 55.0f});  // exactly on the border belongs to cell 7: leave
  grid.flush(ev);
  ASSERT_EQ(ev.shared.size(), 1u);
  EXPECT_EQ(ev.shared[0].batch.leaves, std::vector<entity_id>{2});
}

TEST(aoi_grid, an_observer_changing_cell_gets_enters_and_leaves_at_the_edges_of_its_window) {
  aoi_grid grid(small_grid());
  grid.add(1, {55.0f, 55.0f}, true);   // cell 5: sees 4..6
  grid.add(2, {45.0f, 55.0f}, false);  // cell 4
  grid.add(3, {75.0f, 55.0f}, false);  // cell 7
  grid.add(4, {65.0f, 55.0f}, false);  // cell 6
  aoi_events ev;
  grid.flush(ev);

  grid.move(1, {60.0f, 55.0f});  // now cell 6: sees 5..7
  grid.move(4, {66.0f, 55.0f});  // stays visible and moved
  grid.flush(ev);
  ASSERT_EQ(ev.personal.size(), 1u);
  const aoi_batch& b = ev.personal[0].batch;
  EXPECT_EQ(b.enters, std::vector<entity_id>{3});
  EXPECT_EQ(b.leaves, std::vector<entity_id>{2});
  EXPECT_EQ(b.updates, std::vector<entity_id>{4});
}

TEST(aoi_grid, observers_in_one_cell_share_one_batch) {
  aoi_grid grid(small_grid());
  grid.add(1, {51.0f, 51.0f}, true);
  grid.add(2, {58.0f, 58.0f}, true);
  grid.add(3, {30.0f, 30.0f}, false);
  aoi_events ev;
  grid.flush(ev);

  grid.move(3, {41.0f, 41.0f});  // enters the shared window of cell (5,5)
  grid.flush(ev);
  ASSERT_EQ(ev.shared.size(), 1u);
  auto observers = ev.shared[0].observers;
  std::sort(observers.begin(), observers.end());
  EXPECT_EQ(observers, (std::vector<entity_id>{1, 2}));
  EXPECT_EQ(ev.shared[0].batch.enters, std::vector<entity_id>{3});
}

TEST(aoi_grid, a_removed_entity_leaves_and_one_added_and_removed_in_a_tick_is_never_seen) {
  aoi_grid grid(small_grid());
  grid.add(1, {55.0f, 55.0f}, true);
  grid.add(2, {56.0f, 55.0f}, false);
  aoi_events ev;
  grid.flush(ev);

  EXPECT_TRUE(grid.remove(2));
  EXPECT_FALSE(grid.remove(2));
  EXPECT_FALSE(grid.add(2, {1.0f, 1.0f}, false)) << "the id is taken until the flush";
  grid.add(3, {57.0f, 55.0f}, false);
  EXPECT_TRUE(grid.remove(3));
  grid.flush(ev);
  ASSERT_EQ(ev.shared.size(), 1u);
  EXPECT_EQ(ev.shared[0].batch.leaves, std::vector<entity_id>{2});
  EXPECT_TRUE(ev.shared[0].batch.enters.empty());
  EXPECT_FALSE(grid.contains(2));
  EXPECT_EQ(grid.size(), 1u);
}

TEST(aoi_grid, positions_outside_the_grid_are_clamped_into_the_edge_cells) {
  aoi_grid grid(small_grid());
  grid.add(1, {-5.0f, 500.0f}, true);
  EXPECT_EQ(grid.cell_of({-5.0f, 500.0f}), grid.cell_of({0.0f, 99.0f}));
  grid.add(2, {1.0f, 95.0f}, false);
  EXPECT_EQ(grid.visible_to(1), std::vector<entity_id>{2});
}

TEST(aoi_grid, for_each_near_finds_exactly_the_entities_within_the_radius) {
  aoi_grid grid(small_grid());
  grid.add(1, {50.0f, 50.0f}, false);
  grid.add(2, {53.0f, 54.0f}, false);  // distance 5
  grid.add(3, {56.0f, 50.0f}, false);  // distance 6
  std::vector<entity_id> found;
  grid.for_each_near({50.0f, 50.0f}, 5.0f, [&](entity_id id, vec2) { found.push_back(id); });
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<entity_id>{1, 2}));
}

TEST(aoi_grid, batches_replayed_by_observers_always_match_the_true_visible_sets) {
  aoi_config cfg = small_grid();
  cfg.radius_cells = 2;
  aoi_grid grid(cfg);
  rng random(42);
  std::map<entity_id, std::set<entity_id>> seen;
  std::set<entity_id> alive;
  std::set<entity_id> observers;
  entity_id next = 1;
  aoi_events ev;
  for (int tick = 0; tick < 400; ++tick) {
    const int ops = static_cast<int>(random.uniform_int(0, 25));
    for (int i = 0; i < ops; ++i) {
      const auto roll = random.uniform_int(0, 9);
      if (roll < 2 || alive.empty()) {
        const bool obs = random.uniform_int(0, 1) == 1;
        const vec2 p{random.uniform_float(0, 100), random.uniform_float(0, 100)};
        ASSERT_TRUE(grid.add(next, p, obs));
        alive.insert(next);
        if (obs) {
          observers.insert(next);
        }
        ++next;
        continue;
      }
      auto it = alive.begin();
      std::advance(it, random.uniform_int(0, static_cast<std::int64_t>(alive.size()) - 1));
      const entity_id id = *it;
      if (roll == 2) {
        ASSERT_TRUE(grid.remove(id));
        alive.erase(id);
        observers.erase(id);
        seen.erase(id);
      } else if (roll == 3) {
        grid.touch(id);
      } else {
        const vec2 at = *grid.position(id);
        const float step = roll == 9 ? 40.0f : 8.0f;  // sometimes a long jump
        grid.move(id, {at.x + random.uniform_float(-step, step),
                       at.y + random.uniform_float(-step, step)});
      }
    }
    grid.flush(ev);
    replay(ev, seen);
    for (const entity_id o : observers) {
      const auto truth = grid.visible_to(o);
      const std::vector<entity_id> mine(seen[o].begin(), seen[o].end());
      ASSERT_EQ(mine, truth) << "observer " << o << " at tick " << tick;
    }
  }
}

}  // namespace
}  // namespace quay::game
