// Signed expiring session tokens (issue 20): a successful login returns one; it logs the
// character in again without the secret; forged, expired, wrong-key and other-character
// tokens are refused with their codes; a rotated key's tokens stay valid; the key file is
// generated with mode 0600.
#include "session_token.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

std::int64_t wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

session_keys keys_of(session_key k) { return {k, std::nullopt, true}; }

TEST(session_token, an_issued_token_is_accepted_for_its_character_until_it_expires) {
  const auto keys = keys_of(random_session_key());
  const std::string t = issue_session_token(keys, 42, "ann", 10'000);
  std::uint64_t id = 0;
  EXPECT_EQ(check_session_token(keys, t, "ann", 9'999, &id), token_status::ok);
  EXPECT_EQ(id, 42u);
  EXPECT_EQ(check_session_token(keys, t, "ann", 10'000), token_status::expired);
  EXPECT_EQ(check_session_token(keys, t, "bob", 0), token_status::wrong_character);
}

TEST(session_token, a_forged_token_is_refused) {
  const auto keys = keys_of(random_session_key());
  std::string t = issue_session_token(keys, 1, "ann", 10'000);
  for (std::size_t i = 0; i < t.size(); i += 7) {
    std::string f = t;
    f[i] = f[i] == 'A' ? 'B' : 'A';
    const auto st = check_session_token(keys, f, "ann", 0);
    EXPECT_TRUE(st == token_status::bad_signature || st == token_status::malformed) << i;
  }
  EXPECT_EQ(check_session_token(keys, "", "ann", 0), token_status::malformed);
  EXPECT_EQ(check_session_token(keys, "not-a-token", "ann", 0), token_status::malformed);
}

TEST(session_token, a_token_of_another_key_is_refused_and_a_rotated_key_still_accepted) {
  const session_key old_key = random_session_key();
  const session_key new_key = random_session_key();
  const std::string t = issue_session_token(keys_of(old_key), 1, "ann", 10'000);
  EXPECT_EQ(check_session_token(keys_of(new_key), t, "ann", 0), token_status::bad_signature);
  const session_keys rotated{new_key, old_key, true};
  EXPECT_EQ(check_session_token(rotated, t, "ann", 0), token_status::ok);
  // The previous key only verifies: tokens are signed with the current one.
  const std::string fresh = issue_session_token(rotated, 1, "ann", 10'000);
  EXPECT_EQ(check_session_token(keys_of(new_key), fresh, "ann", 0), token_status::ok);
}

TEST(session_token, a_resume_token_carries_its_nonce_and_neither_kind_passes_for_the_other) {
  const auto keys = keys_of(random_session_key());
  const std::string r = issue_resume_token(keys, 7, "ann", 0xfeedbeefULL, 10'000);
  std::uint64_t id = 0;
  std::uint64_t nonce = 0;
  EXPECT_EQ(check_resume_token(keys, r, "ann", 9'999, &id, &nonce), token_status::ok);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(nonce, 0xfeedbeefULL);
  EXPECT_EQ(check_resume_token(keys, r, "bob", 0, &id, &nonce), token_status::wrong_character);
  EXPECT_EQ(check_resume_token(keys, r, "ann", 10'000, &id, &nonce), token_status::expired);
  EXPECT_NE(check_session_token(keys, r, "ann", 0), token_status::ok);
  const std::string s = issue_session_token(keys, 7, "ann", 10'000);
  EXPECT_NE(check_resume_token(keys, s, "ann", 0, &id, &nonce), token_status::ok);
  EXPECT_NE(random_resume_nonce(), 0u);
}

TEST(session_token, the_key_file_is_generated_with_mode_0600_and_read_back) {
  const auto dir = std::filesystem::temp_directory_path() / "quay-session-key-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "session.key").string();
  session_key a{};
  session_key b{};
  ASSERT_EQ(load_or_create_key_file(path, a), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(load_or_create_key_file(path, b), "");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, session_key{});
  std::filesystem::remove_all(dir);
}

struct tokens_fixture : server_fixture {
  /// Logs in with a session token (and a wrong secret); the LoginResult's code.
  wire::ErrorCode token_login(const char* name, const std::string& token) {
    auto c = connect();
    fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, "not-the-secret", 1, token.c_str()));
    fx.send(c.player, client_frame(c.session, MT::LoginRequest, 1, fbb));
    fx.run();
    const auto* r = find<wire::LoginResult>(receive(c), MT::LoginResult);
    EXPECT_NE(r, nullptr);
    return r != nullptr ? r->error() : wire::ErrorCode::InternalError;
  }

  /// Logs `name` in with its secret and out again; the session token it was given.
  std::string token_of(const char* name) {
    auto c = connect();
    login(c, name, "secret");
    const auto* r = find<wire::LoginResult>(receive(c), MT::LoginResult);
    EXPECT_NE(r, nullptr);
    std::string t = r != nullptr && r->session_token() != nullptr ? r->session_token()->str() : "";
    EXPECT_EQ(r != nullptr ? r->session_token_ttl_s() : 0, settings.session_token_ttl_s);
    logout(c);
    fx.advance(millis(2100));  // the release of its final save
    return t;
  }
};

TEST_F(tokens_fixture, a_login_returns_a_token_that_logs_the_character_in_without_the_secret) {
  const std::string t = token_of("ann");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(token_login("ann", t), wire::ErrorCode::Ok);
  EXPECT_EQ(token_login("bob", t), wire::ErrorCode::SessionTokenInvalid) << "not bob's";
}

TEST_F(tokens_fixture, forged_expired_and_wrong_key_tokens_are_refused_with_their_codes) {
  const std::string t = token_of("ann");
  ASSERT_FALSE(t.empty());
  std::string forged = t;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'x' ? 'y' : 'x';
  EXPECT_EQ(token_login("ann", forged), wire::ErrorCode::SessionTokenInvalid);
  const auto id = stored("ann")->record.character_id;
  const std::string expired =
      issue_session_token(settings.session, id, "ann", wall_now() - 1000);
  EXPECT_EQ(token_login("ann", expired), wire::ErrorCode::SessionTokenExpired);
  const std::string other_key =
      issue_session_token(keys_of(random_session_key()), id, "ann", wall_now() + 60'000);
  EXPECT_EQ(token_login("ann", other_key), wire::ErrorCode::SessionTokenInvalid);
  // The bystander: its own token still works.
  const std::string b = token_of("bystander");
  EXPECT_EQ(token_login("bystander", b), wire::ErrorCode::Ok);
}

}  // namespace
}  // namespace quay::game::server
