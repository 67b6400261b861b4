// The SQLite character store: schema migration, WAL, and save / reopen / load round trips on a
// temporary database.
#include "character_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include <sqlite3.h>

namespace quay::game::server {
namespace {

struct temp_db {
  std::filesystem::path dir;
  temp_db() {
    dir = std::filesystem::temp_directory_path() /
          ("quay-store-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
           "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~temp_db() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "characters.sqlite3").string(); }
};

stored_character ann() {
  stored_character c;
  c.token = "legacy";
  c.secret = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
  c.record.character_id = 7;
  c.record.name = "ann";
  c.record.zone_id = 2;
  c.record.pos = {12.5f, 40.25f};
  c.record.has_pos = true;
  c.record.level = 4;
  c.record.xp = 321;
  c.record.hp = 77;
  return c;
}

TEST(character_store, a_new_database_is_migrated_to_the_current_schema_in_wal_mode) {
  temp_db tmp;
  character_store store;
  ASSERT_EQ(store.open(tmp.path()), "");
  EXPECT_EQ(store.version(), character_store::schema_version);
  std::string error;
  EXPECT_TRUE(store.load_all(error).empty());
  EXPECT_EQ(error, "");
}

TEST(character_store, saved_characters_come_back_after_reopening) {
  temp_db tmp;
  {
    character_store store;
    ASSERT_EQ(store.open(tmp.path()), "");
    ASSERT_EQ(store.save({ann()}), "");
    auto moved = ann();
    moved.record.pos = {13.0f, 41.0f};
    moved.record.level = 5;
    ASSERT_EQ(store.save({moved}), "") << "a second save updates the same row";
  }
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "-wal") ||
              std::filesystem::exists(tmp.path()));
  character_store again;
  ASSERT_EQ(again.open(tmp.path()), "");
  std::string error;
  const auto all = again.load_all(error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].token, "legacy");
  EXPECT_EQ(all[0].secret, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
  EXPECT_EQ(all[0].record.name, "ann");
  EXPECT_EQ(all[0].record.character_id, 7u);
  EXPECT_EQ(all[0].record.zone_id, 2u);
  EXPECT_EQ(all[0].record.pos, (vec2{13.0f, 41.0f}));
  EXPECT_TRUE(all[0].record.has_pos);
  EXPECT_EQ(all[0].record.level, 5);
  EXPECT_EQ(all[0].record.xp, 321);
  EXPECT_EQ(all[0].record.hp, 77);
}

TEST(character_store, a_database_from_a_newer_server_is_refused_and_a_bad_path_reported) {
  temp_db tmp;
  {
    character_store store;
    ASSERT_EQ(store.open(tmp.path()), "");
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  character_store store;
  EXPECT_NE(store.open(tmp.path()).find("newer"), std::string::npos);
  character_store nowhere;
  EXPECT_NE(nowhere.open("/nonexistent-dir/x/characters.sqlite3"), "");
}

}  // namespace
}  // namespace quay::game::server
