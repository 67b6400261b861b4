// The persistence actor on the deterministic fixture with a real SQLite file: characters are
// written in ordered batches through the blocking-work pool; a locked or full database is
// reported, counted and retried with backoff while the game keeps running, and the file holds
// only whole batches.
#include "persistence_actor.hpp"

#include <filesystem>

#include <sqlite3.h>

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

struct persistence_fixture : server_fixture {
  std::filesystem::path dir;
  character_store store;
  persistence_counters counters;
  sqlite3* other = nullptr;  // a second connection, as another process would hold

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          (std::string("quay-persist-") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    // A short busy timeout: each attempt on a locked file blocks the (test's) stepping thread.
    ASSERT_EQ(store.open(path(), 20), "");
    ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
    game_setup s;
    s.store = &store;
    s.counters = &counters;
    start(std::move(s));
  }
  void TearDown() override {
    sqlite3_close(other);
    std::filesystem::remove_all(dir);
  }
  std::string path() const { return (dir / "characters.sqlite3").string(); }

  void sql(const char* statement) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(other, statement, nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "");
    sqlite3_free(err);
  }

  /// What the file holds for `name`, read through the second connection.
  std::optional<player_record> on_disk(const std::string& name) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(other, "SELECT zone_id, x, y, has_pos FROM characters WHERE name=?1",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    std::optional<player_record> r;
    if (sqlite3_step(st) == SQLITE_ROW) {
      r.emplace();
      r->name = name;
      r->zone_id = static_cast<std::uint32_t>(sqlite3_column_int(st, 0));
      r->pos = {static_cast<float>(sqlite3_column_double(st, 1)),
                static_cast<float>(sqlite3_column_double(st, 2))};
      r->has_pos = sqlite3_column_int(st, 3) != 0;
    }
    sqlite3_finalize(st);
    return r;
  }

  std::int64_t rows() {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(other, "SELECT count(*) FROM characters", -1, &st, nullptr);
    sqlite3_step(st);
    const std::int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  }

  std::string integrity() {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(other, "PRAGMA integrity_check", -1, &st, nullptr);
    std::string r = sqlite3_step(st) == SQLITE_ROW
                        ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0))
                        : "no answer";
    sqlite3_finalize(st);
    return r;
  }

  std::uint64_t failures() const { return counters.write_failures.load(); }
  std::size_t pending() const { return counters.pending.load(); }
};

TEST_F(persistence_fixture, a_new_character_is_written_at_login_and_its_final_state_at_logout) {
  client ann = connect();
  login(ann, "ann");
  tick();
  ASSERT_TRUE(on_disk("ann").has_value()) << "created at its first login";
  fx.advance(millis(1000));
  move(ann, {25, 20}, 2);
  tick();
  logout(ann);
  fx.run();
  const auto r = on_disk("ann");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->has_pos);
  EXPECT_FLOAT_EQ(r->pos.x, 25.0f);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(failures(), 0u);
  EXPECT_GE(counters.batches_written.load(), 2u);
}

TEST_F(persistence_fixture, a_locked_database_is_retried_with_backoff_while_the_game_runs_on) {
  client ann = connect();
  login(ann, "ann");
  tick();
  ASSERT_TRUE(on_disk("ann").has_value());

  sql("BEGIN EXCLUSIVE;");  // another writer holds the database
  fx.advance(millis(1000));
  move(ann, {25, 20}, 2);
  tick();
  logout(ann);
  fx.run();
  EXPECT_EQ(failures(), 1u) << "the final save failed on the lock";
  EXPECT_GT(pending(), 0u) << "and is kept, not dropped";

  // Meanwhile another player logs in and plays: nothing waits for the database.
  client bob = connect();
  login(bob, "bob");
  tick();
  ASSERT_NE(find<wire::EnterZone>(receive(bob), MT::EnterZone), nullptr);
  fx.advance(millis(1000));
  move(bob, {21, 20}, 2);
  tick();
  EXPECT_EQ(count(receive(bob), MT::MoveCorrection), 0u);

  // Backoff doubles: 100 ms, 200 ms, 400 ms ... (the second above spent the first two).
  const std::uint64_t before = counters.retries.load();
  EXPECT_GE(before, 2u);
  fx.advance(millis(5000));
  const std::uint64_t in_5s = counters.retries.load() - before;
  EXPECT_GE(in_5s, 1u);
  EXPECT_LE(in_5s, 4u) << "retries slow down (50 at a fixed 100 ms) instead of hammering";
  EXPECT_EQ(failures(), 1 + before + in_5s) << "every attempt on the lock failed and was counted";
  EXPECT_EQ(counters.batches_written.load(), 1u) << "only ann's creation got through";

  sql("COMMIT;");  // the lock goes away
  fx.advance(millis(5000));
  EXPECT_EQ(pending(), 0u);
  const auto a = on_disk("ann");
  ASSERT_TRUE(a.has_value());
  EXPECT_FLOAT_EQ(a->pos.x, 25.0f) << "the final state survived the outage";
  EXPECT_TRUE(on_disk("bob").has_value());
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(persistence_fixture, a_full_database_is_reported_and_retried_and_holds_only_whole_batches) {
  ASSERT_EQ(store.limit_pages(1), "");  // no room to grow beyond its current pages
  constexpr int n = 300;
  for (int i = 0; i < n; ++i) {
    (void)stored("hero_with_a_long_name_" + std::to_string(i), true);
  }
  EXPECT_GT(failures(), 0u) << "SQLITE_FULL was seen";
  const std::int64_t partial = rows();
  EXPECT_LT(partial, n);
  EXPECT_GT(pending(), 0u);
  EXPECT_EQ(integrity(), "ok");

  // The server keeps serving while the disk is full.
  client ann = connect();
  login(ann, "ann");
  tick();
  EXPECT_NE(find<wire::EnterZone>(receive(ann), MT::EnterZone), nullptr);

  ASSERT_EQ(store.limit_pages(1'000'000), "");  // space again
  fx.advance(millis(10'000));
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(rows(), n + 1);
  EXPECT_EQ(integrity(), "ok");
}

}  // namespace
}  // namespace quay::game::server
