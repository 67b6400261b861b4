// Login limits (issue 20): back-off after failed logins per account and per source address,
// a per-address connection rate, each refusal a documented code; a bystander's login is not
// touched by someone else's brute force.
#include "quay/game/login_limits.hpp"

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

TEST(login_limiter, an_account_is_in_back_off_after_its_free_failures_and_the_wait_doubles) {
  login_limit_rules rules;
  rules.account_free_failures = 2;
  rules.backoff_base_ms = 100;
  rules.backoff_max_ms = 1000;
  login_limiter l(rules);
  using v = login_limiter::verdict;
  l.failed("ann", "10.0.0.1", 0);
  l.failed("ann", "10.0.0.1", 0);
  EXPECT_EQ(l.check("ann", "10.0.0.2", 0), v::allowed);
  l.failed("ann", "10.0.0.1", 0);  // the third: 100 ms
  EXPECT_EQ(l.check("ann", "10.0.0.2", 99), v::account_backoff);
  EXPECT_EQ(l.check("ann", "10.0.0.2", 100), v::allowed);
  l.failed("ann", "10.0.0.1", 100);  // the fourth: 200 ms
  EXPECT_EQ(l.check("ann", "10.0.0.2", 299), v::account_backoff);
  EXPECT_EQ(l.check("ann", "10.0.0.2", 300), v::allowed);
  for (int i = 0; i < 40; ++i) {
    l.failed("ann", "10.0.0.1", 300);
  }
  EXPECT_EQ(l.until("ann", false), 1300) << "capped at backoff_max_ms";
  EXPECT_EQ(l.check("bob", "10.0.0.2", 300), v::allowed) << "another account is not touched";
  l.succeeded("ann");
  EXPECT_EQ(l.check("ann", "10.0.0.2", 300), v::allowed);
}

TEST(login_limiter, an_address_spraying_many_accounts_is_in_back_off_and_others_are_not) {
  login_limit_rules rules;
  rules.address_free_failures = 5;
  login_limiter l(rules);
  for (int i = 0; i < 6; ++i) {
    l.failed("acct" + std::to_string(i), "10.0.0.9", 0);
  }
  EXPECT_EQ(l.check("fresh", "10.0.0.9", 10), login_limiter::verdict::address_backoff);
  EXPECT_EQ(l.check("fresh", "10.0.0.8", 10), login_limiter::verdict::allowed);
}

TEST(login_limiter, memory_stays_bounded_under_a_flood_of_addresses) {
  login_limit_rules rules;
  rules.max_tracked = 100;
  rules.backoff_max_ms = 10;
  login_limiter l(rules);
  for (int i = 0; i < 10'000; ++i) {
    // Appended, not "a" + std::to_string(i): g++ 12 at -O3 reports a false -Wrestrict there.
    const std::string n = std::to_string(i);
    l.failed(std::string("a").append(n), std::string("addr").append(n), i * 20);
  }
  EXPECT_LE(l.tracked(), 2 * rules.max_tracked + 2);
}

TEST(connection_limiter, an_address_over_its_connection_rate_is_refused_and_others_are_not) {
  login_limit_rules rules;
  rules.connections = {3.0, 1.0};
  connection_limiter c(rules);
  EXPECT_TRUE(c.admit("10.0.0.1", 0));
  EXPECT_TRUE(c.admit("10.0.0.1", 0));
  EXPECT_TRUE(c.admit("10.0.0.1", 0));
  EXPECT_FALSE(c.admit("10.0.0.1", 0));
  EXPECT_TRUE(c.admit("10.0.0.2", 0));
  EXPECT_TRUE(c.admit("10.0.0.1", 1000)) << "a token back after a second";
}

struct limits_fixture : server_fixture {
  void SetUp() override {
    settings.login_limits.account_free_failures = 3;
    settings.login_limits.address_free_failures = 10;
    settings.login_limits.backoff_base_ms = 1000;
    settings.login_limits.connections = {5.0, 1.0};
    start();
  }

  client connect_from(const std::string& address) {
    client c{{next_slot++, 1}, {}, {}};
    c.player = fx.spawn<player_actor>(ctx, c.session, address);
    fx.run();
    return c;
  }

  wire::ErrorCode try_login(const std::string& address, const char* name, const char* secret) {
    auto c = connect_from(address);
    login(c, name, secret);
    const auto* r = find<wire::LoginResult>(receive(c), MT::LoginResult);
    EXPECT_NE(r, nullptr) << name << " from " << address;
    return r != nullptr ? r->error() : wire::ErrorCode::InternalError;
  }
};

TEST_F(limits_fixture, brute_force_on_one_account_leaves_a_bystanders_login_untouched) {
  ASSERT_EQ(try_login("127.0.0.5", "victim", "right"), wire::ErrorCode::Ok);  // dev account
  ASSERT_EQ(try_login("127.0.0.6", "bystander", "mine"), wire::ErrorCode::Ok);
  fx.advance(millis(5000));  // connection buckets refill
  int throttled = 0;
  for (int i = 0; i < 8; ++i) {
    const auto e = try_login("127.0.0.2", "victim", ("guess" + std::to_string(i)).c_str());
    throttled += e == wire::ErrorCode::LoginThrottled ? 1 : 0;
    EXPECT_TRUE(e == wire::ErrorCode::InvalidCredentials || e == wire::ErrorCode::LoginThrottled)
        << wire::EnumNameErrorCode(e);
    // Meanwhile the bystander logs in as usual, from its own address.
    EXPECT_EQ(try_login("127.0.0.6", "bystander", "mine"), wire::ErrorCode::Ok) << i;
    fx.advance(millis(1000));
  }
  EXPECT_GE(throttled, 1) << "the attacker met the back-off";
  // Even the right secret waits for the account's back-off to end ...
  EXPECT_EQ(try_login("127.0.0.5", "victim", "right"), wire::ErrorCode::LoginThrottled);
  // ... and is let in after it.
  fx.advance(millis(300'000));
  EXPECT_EQ(try_login("127.0.0.5", "victim", "right"), wire::ErrorCode::Ok);
}

TEST_F(limits_fixture, an_address_over_its_connection_rate_is_kicked_and_another_is_served) {
  std::vector<client> cs;
  for (int i = 0; i < 5; ++i) {
    cs.push_back(connect_from("127.0.0.3"));
    EXPECT_FALSE(kicked(cs.back()).has_value()) << i;
  }
  auto over = connect_from("127.0.0.3");
  EXPECT_EQ(kicked(over), wire::ErrorCode::ConnectionRateLimited);
  auto other = connect_from("127.0.0.4");
  EXPECT_FALSE(kicked(other).has_value());
  login(other, "calm", "t");
  EXPECT_EQ(find<wire::LoginResult>(receive(other), MT::LoginResult)->error(),
            wire::ErrorCode::Ok);
}

}  // namespace
}  // namespace quay::game::server
