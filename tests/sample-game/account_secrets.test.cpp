// Account secrets at rest and at login (issue 20): the database holds argon2id hashes only,
// never a token in plain text; a legacy plain token is rehashed at its next successful login
// and its plain column cleared; a wrong secret is refused; verification runs on the blocking
// pool behind a bound of its own, and logins over it are refused with LoginBusy.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <sqlite3.h>

#include "account_secret.hpp"
#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

TEST(account_secret, a_hash_verifies_its_secret_and_no_other) {
  const auto p = hash_params::minimum();
  const std::string h = hash_secret("correct horse", p);
  ASSERT_TRUE(is_hashed_secret(h)) << h;
  EXPECT_TRUE(verify_secret(h, "correct horse"));
  EXPECT_FALSE(verify_secret(h, "correct horsf"));
  EXPECT_FALSE(verify_secret(h, ""));
  EXPECT_EQ(h.find("correct horse"), std::string::npos);
}

TEST(account_secret, two_hashes_of_one_secret_differ_because_each_has_its_own_salt) {
  const auto p = hash_params::minimum();
  EXPECT_NE(hash_secret("same", p), hash_secret("same", p));
}

TEST(account_secret, a_hash_made_with_other_parameters_asks_to_be_rehashed) {
  const auto p = hash_params::minimum();
  const std::string h = hash_secret("s", p);
  EXPECT_FALSE(needs_rehash(h, p));
  EXPECT_TRUE(needs_rehash(h, hash_params{p.ops_limit + 1, p.mem_limit}));
}

TEST(account_secret, constant_time_equality_compares_secrets_of_any_length) {
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_TRUE(secrets_equal("", ""));
}

struct secrets_fixture : server_fixture {
  std::filesystem::path dir;
  std::unique_ptr<character_store> store = std::make_unique<character_store>();

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          (std::string("quay-secrets-") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "characters.sqlite3").string(); }

  void open_and_start() {
    ASSERT_EQ(store->open(path()), "");
    std::string error;
    game_setup s;
    s.stored = store->load_all(error);
    ASSERT_EQ(error, "");
    s.store = store.get();
    start(std::move(s));
  }

  /// The text of `sqlite3 <db> .dump` (the command-line shell, as an operator would run it).
  std::string dump() {
    const std::string cmd = "sqlite3 '" + path() + "' .dump";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    char buf[4096];
    std::size_t n = 0;
    while (p != nullptr && (n = std::fread(buf, 1, sizeof buf, p)) > 0) {
      out.append(buf, n);
    }
    EXPECT_EQ(p != nullptr ? ::pclose(p) : -1, 0);
    return out;
  }

  wire::ErrorCode login_result(client& c) {
    const auto* r = find<wire::LoginResult>(receive(c), MT::LoginResult);
    EXPECT_NE(r, nullptr);
    return r != nullptr ? r->error() : wire::ErrorCode::InternalError;
  }

  /// Lets saves reach the file (the fixture runs blocking work when it steps).
  void settle() {
    for (int i = 0; i < 5; ++i) {
      fx.advance(millis(100));
    }
  }
};

TEST_F(secrets_fixture, a_database_dump_holds_no_secret_in_plain_text) {
  open_and_start();
  auto a = connect();
  login(a, "ann", "ann-very-secret-token");
  ASSERT_EQ(login_result(a), wire::ErrorCode::Ok);
  logout(a);
  settle();
  const std::string d = dump();
  ASSERT_NE(d.find("'ann'"), std::string::npos) << d;  // the character is stored ...
  EXPECT_EQ(d.find("ann-very-secret-token"), std::string::npos) << d;  // ... its token is not
  EXPECT_NE(d.find("$argon2id$"), std::string::npos) << d;
}

TEST_F(secrets_fixture, the_stored_secret_lets_its_owner_in_and_keeps_a_wrong_one_out) {
  open_and_start();
  auto a = connect();
  login(a, "bob", "bob-secret");
  ASSERT_EQ(login_result(a), wire::ErrorCode::Ok);
  logout(a);
  settle();
  auto wrong = connect();
  login(wrong, "bob", "bob-secreT");
  EXPECT_EQ(login_result(wrong), wire::ErrorCode::InvalidCredentials);
  auto right = connect();
  login(right, "BOB", "bob-secret");
  EXPECT_EQ(login_result(right), wire::ErrorCode::Ok);
}

TEST_F(secrets_fixture, a_legacy_plain_token_is_rehashed_at_its_next_login_and_cleared) {
  // A version-1 database, as servers before issue 20 wrote it: the token in plain text.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE characters (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
                           "UNIQUE, token TEXT NOT NULL, zone_id INTEGER NOT NULL, x REAL NOT "
                           "NULL, y REAL NOT NULL, has_pos INTEGER NOT NULL, level INTEGER NOT "
                           "NULL, xp INTEGER NOT NULL, hp INTEGER NOT NULL, saved_at TEXT NOT "
                           "NULL DEFAULT CURRENT_TIMESTAMP);"
                           "INSERT INTO characters (id, name, token, zone_id, x, y, has_pos, "
                           "level, xp, hp) VALUES (7, 'old', 'old-plain-token', 1, 0, 0, 0, 3, "
                           "0, 100);"
                           "PRAGMA user_version=1;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  open_and_start();
  auto wrong = connect();
  login(wrong, "old", "not-the-token");
  EXPECT_EQ(login_result(wrong), wire::ErrorCode::InvalidCredentials);
  settle();
  EXPECT_NE(dump().find("old-plain-token"), std::string::npos);  // not migrated by a failure
  auto a = connect();
  login(a, "old", "old-plain-token");
  ASSERT_EQ(login_result(a), wire::ErrorCode::Ok);
  settle();
  const std::string d = dump();
  EXPECT_EQ(d.find("old-plain-token"), std::string::npos) << d;
  EXPECT_NE(d.find("$argon2id$"), std::string::npos) << d;
  logout(a);
  settle();
  auto again = connect();
  login(again, "old", "old-plain-token");
  EXPECT_EQ(login_result(again), wire::ErrorCode::Ok);  // the hash now lets it in
}

TEST_F(secrets_fixture, a_burst_of_logins_over_the_verification_bound_waits_and_every_one_is_served) {
  settings.max_login_jobs = 1;  // one check at a time; the others wait in the gateway's queue
  open_and_start();
  // Connected first, then every request delivered in one step, so all six wait for a check.
  std::vector<decltype(connect())> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(connect());
  for (int i = 0; i < 6; ++i) {
    const std::string name = "burst" + std::to_string(i);
    fbb.Finish(wire::CreateLoginRequestDirect(fbb, name.c_str(), "t"));
    fx.send(clients[i].player, client_frame(clients[i].session, MT::LoginRequest, 1, fbb));
  }
  fx.run();
  for (auto& c : clients) EXPECT_EQ(login_result(c), wire::ErrorCode::Ok);
}

TEST_F(secrets_fixture, logins_over_the_verification_bound_and_the_queue_are_refused_with_login_busy) {
  settings.max_login_jobs = 1;
  settings.max_login_queue = 0;  // no waiting room: the second login is over both bounds
  open_and_start();
  // The fixture runs blocking work only when it steps, so two logins delivered in one step
  // both wait for verification: the second is over the bound.
  auto a = connect();
  auto b = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "first", "t1"));
  fx.send(a.player, client_frame(a.session, MT::LoginRequest, 1, fbb));
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "second", "t2"));
  fx.send(b.player, client_frame(b.session, MT::LoginRequest, 1, fbb));
  fx.run();
  EXPECT_EQ(login_result(a), wire::ErrorCode::Ok);
  EXPECT_EQ(login_result(b), wire::ErrorCode::LoginBusy);
  auto c = connect();  // the bound is free again
  login(c, "second", "t2");
  EXPECT_EQ(login_result(c), wire::ErrorCode::Ok);
}

}  // namespace
}  // namespace quay::game::server
