// Accounts without development mode (issue 20): unknown names are refused by default, and the
// operator's `zone-server accounts create|disable|enable|reset` works on the server's database
// (the secret read from a flag or standard input, stored only as its hash).
#include "accounts_command.hpp"

#include <filesystem>
#include <memory>
#include <sstream>

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

struct accounts_fixture : server_fixture {
  std::filesystem::path dir;
  std::unique_ptr<character_store> store;

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          (std::string("quay-accounts-") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    settings.dev_accounts = server_settings{}.dev_accounts;  // the server's default
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "characters.sqlite3").string(); }

  /// Runs the command; `input` is its standard input.
  int command(const std::string& action, const std::string& name, const std::string& input,
              const char* secret_flag = nullptr) {
    accounts_request r;
    r.action = action;
    r.name = name;
    r.database = path();
    r.hash = hash_params::minimum();
    if (secret_flag != nullptr) {
      r.secret = secret_flag;
      r.secret_given = true;
    }
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    const int rc = run_accounts_command(r, in, out, err);
    last_err = err.str();
    return rc;
  }
  std::string last_err;

  /// Starts the server's actors on what the database holds now (as the program does).
  void start_server() {
    store = std::make_unique<character_store>();
    ASSERT_EQ(store->open(path()), "");
    std::string error;
    game_setup s;
    s.stored = store->load_all(error);
    ASSERT_EQ(error, "");
    s.store = store.get();
    start(std::move(s));
  }

  wire::ErrorCode try_login(const char* name, const char* secret) {
    auto c = connect();
    login(c, name, secret);
    const auto* r = find<wire::LoginResult>(receive(c), MT::LoginResult);
    EXPECT_NE(r, nullptr);
    return r != nullptr ? r->error() : wire::ErrorCode::InternalError;
  }
};

TEST_F(accounts_fixture, unknown_names_are_refused_when_development_accounts_keep_their_default) {
  start_server();
  EXPECT_EQ(try_login("stranger", "anything"), wire::ErrorCode::InvalidCredentials);
  EXPECT_FALSE(stored("stranger").has_value()) << "no account was created";
}

TEST_F(accounts_fixture, an_account_created_by_the_operator_lets_in_its_secret_only) {
  ASSERT_EQ(command("create", "Ann", "ann-secret\n"), 0) << last_err;
  EXPECT_EQ(command("create", "ANN", "other\n"), 1) << "names are unique regardless of case";
  start_server();
  EXPECT_EQ(try_login("ann", "wrong"), wire::ErrorCode::InvalidCredentials);
  EXPECT_EQ(try_login("ann", "ann-secret"), wire::ErrorCode::Ok);
}

TEST_F(accounts_fixture, a_disabled_account_is_refused_with_account_disabled) {
  ASSERT_EQ(command("create", "bob", "", "bob-secret"), 0) << last_err;
  ASSERT_EQ(command("disable", "BOB", ""), 0) << last_err;
  start_server();
  EXPECT_EQ(try_login("bob", "bob-secret"), wire::ErrorCode::AccountDisabled);
  // Without the secret the answer says nothing about the account's state.
  EXPECT_EQ(try_login("bob", "guess"), wire::ErrorCode::InvalidCredentials);
}

TEST_F(accounts_fixture, an_account_enabled_again_lets_its_owner_in) {
  ASSERT_EQ(command("create", "bob", "", "bob-secret"), 0) << last_err;
  ASSERT_EQ(command("disable", "bob", ""), 0) << last_err;
  ASSERT_EQ(command("enable", "bob", ""), 0) << last_err;
  EXPECT_EQ(command("enable", "nobody", ""), 1);
  start_server();
  EXPECT_EQ(try_login("bob", "bob-secret"), wire::ErrorCode::Ok);
}

TEST_F(accounts_fixture, a_reset_secret_replaces_the_old_one) {
  ASSERT_EQ(command("create", "cy", "old-secret\n"), 0) << last_err;
  ASSERT_EQ(command("reset", "cy", "new-secret\n"), 0) << last_err;
  EXPECT_EQ(command("reset", "nobody", "x\n"), 1);
  EXPECT_EQ(command("create", "dee", "\n"), 1) << "an empty secret is refused";
  EXPECT_EQ(command("rename", "cy", ""), 2);
  start_server();
  EXPECT_EQ(try_login("cy", "old-secret"), wire::ErrorCode::InvalidCredentials);
  EXPECT_EQ(try_login("cy", "new-secret"), wire::ErrorCode::Ok);
}

}  // namespace
}  // namespace quay::game::server
