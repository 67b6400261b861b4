// Reconnect and resume (issue 20): a character whose connection drops stays in the world,
// standing still and visible, for the grace period; a new session with its one-time resume
// token continues it in place (same entity, same position, no second login, no duplicate);
// a replayed, forged, wrong-key or too-late resume token is refused with its code; after the
// grace period the character is saved and removed; bystanders keep playing throughout.
#include <atomic>
#include <chrono>
#include <map>

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

std::int64_t wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct resume_fixture : server_fixture {
  std::atomic<std::size_t> online{0};  // the gateway's count of characters in the world
  void SetUp() override {
    game_setup s;
    s.online = &online;
    start(std::move(s));
  }
  struct seen {
    std::string name;
    float x = 0;
  };
  /// What `c`'s client knows of its zone now: its WorldUpdates since its last EnterZone,
  /// replayed (leaves, enters, updates), by entity id.
  std::map<entity_id, seen> view(client& c) {
    std::map<entity_id, seen> v;
    for (const auto& f : receive(c)) {
      if (as<wire::EnterZone>(f, MT::EnterZone) != nullptr) {
        v.clear();
      }
      const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate);
      if (u == nullptr) continue;
      if (u->leaves()) for (const auto l : *u->leaves()) v.erase(l);
      if (u->enters()) {
        for (const auto* e : *u->enters()) v[e->id()] = {e->name()->str(), e->position()->x()};
      }
      if (u->updates()) {
        for (const auto* e : *u->updates()) {
          if (const auto it = v.find(e->id()); it != v.end()) it->second.x = e->position().x();
        }
      }
    }
    return v;
  }
  /// How many entities named `name` `c` sees.
  std::size_t sees(client& c, const std::string& name) {
    std::size_t n = 0;
    for (const auto& [id, e] : view(c)) n += e.name == name ? 1 : 0;
    return n;
  }
  /// The latest LoginResult `c` received (null: none).
  const wire::LoginResult* result(client& c) {
    const wire::LoginResult* r = nullptr;
    for (const auto& f : receive(c)) {
      if (const auto* x = as<wire::LoginResult>(f, MT::LoginResult)) {
        r = x;
      }
    }
    return r;
  }
  std::string resume_token(client& c) {
    const auto* r = result(c);
    return r != nullptr && r->resume_token() != nullptr ? r->resume_token()->str() : "";
  }
  /// The connection drops (the network tells the owner, as for a reset or a FIN).
  void drop(client& c) {
    fx.send(c.player, net::session_closed{c.session, net::errc::closed_by_peer});
    fx.run();
  }
  /// A new connection resuming `name` with `token`; the LoginResult's code.
  wire::ErrorCode resume(client& c, const char* name, const std::string& token) {
    c = connect();
    fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, "", 1, nullptr, token.c_str()));
    fx.send(c.player, client_frame(c.session, MT::LoginRequest, 1, fbb));
    fx.run();
    const auto* r = result(c);
    EXPECT_NE(r, nullptr);
    return r != nullptr ? r->error() : wire::ErrorCode::InternalError;
  }
  /// The last EnterZone of `c`.
  const wire::EnterZone* enter(client& c) {
    const wire::EnterZone* e = nullptr;
    for (const auto& f : receive(c)) {
      if (const auto* x = as<wire::EnterZone>(f, MT::EnterZone)) {
        e = x;
      }
    }
    return e;
  }
  /// Whether `c` was told that entity `id` left its view (in any WorldUpdate so far).
  bool saw_leave(client& c, entity_id id) {
    for (const auto& f : receive(c)) {
      if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate); u && u->leaves()) {
        for (const auto l : *u->leaves()) {
          if (l == id) return true;
        }
      }
    }
    return false;
  }
  /// Whether `c` got entity `id` as an enter (in any WorldUpdate so far).
  bool saw_enter(client& c, entity_id id) {
    for (const auto& f : receive(c)) {
      if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate); u && u->enters()) {
        for (const auto* e : *u->enters()) {
          if (e->id() == id) return true;
        }
      }
    }
    return false;
  }
  /// ann logged in, walked half a metre and dropped; bob logged in beside her.
  entity_id ann_dropped(client& ann, client& bob, std::string& token) {
    ann = connect();
    login(ann, "ann", "secret");
    token = resume_token(ann);
    EXPECT_FALSE(token.empty());
    bob = connect();
    login(bob, "bob", "secret");
    fx.advance(millis(1000));
    move(ann, {20.5f, 20}, 2);
    tick();
    const entity_id id = self_id(ann);
    drop(ann);
    return id;
  }
};

TEST_F(resume_fixture, a_dropped_character_stays_visible_and_a_resume_continues_it_in_place) {
  client ann, bob;
  std::string token;
  const entity_id id = ann_dropped(ann, bob, token);
  ticks(30);  // 3 s of the grace period
  EXPECT_TRUE(saw_enter(bob, id));
  EXPECT_FALSE(saw_leave(bob, id)) << "the parked character stays in bob's view";
  ASSERT_EQ(sees(bob, "ann"), 1u);
  EXPECT_FLOAT_EQ(view(bob)[id].x, 20.5f) << "standing still";
  EXPECT_EQ(online.load(), 2u);

  client again;
  ASSERT_EQ(resume(again, "ann", token), wire::ErrorCode::Ok);
  const auto* r = result(again);
  EXPECT_TRUE(r->resumed());
  EXPECT_EQ(r->name()->str(), "ann");
  EXPECT_FALSE(resume_token(again).empty());
  EXPECT_NE(resume_token(again), token) << "a new resume token at each resume";
  EXPECT_GT(r->resume_grace_s(), 0u);
  const auto* e = enter(again);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->self_id(), id) << "the same entity";
  EXPECT_FLOAT_EQ(e->position()->x(), 20.5f) << "the same place";
  EXPECT_TRUE(saw_enter(again, self_id(bob))) << "the new session is given its full view";
  tick();
  EXPECT_FALSE(saw_leave(bob, id));
  EXPECT_EQ(sees(bob, "ann"), 1u) << "no duplicate";
  EXPECT_EQ(online.load(), 2u);
  EXPECT_FALSE(fx.sys.alive(ann.player)) << "the old player actor handed over and stopped";

  // It plays on: a move from the new session is taken (no correction), and the gateway timer
  // of the old park does not remove it later.
  fx.advance(millis(1000));
  move(again, {21.0f, 20}, 3);
  EXPECT_EQ(count(receive(again), MT::MoveCorrection), 0u);
  fx.advance(millis(25'000));
  EXPECT_FLOAT_EQ(view(bob)[id].x, 21.0f);
  EXPECT_EQ(sees(bob, "ann"), 1u);
  EXPECT_FALSE(kicked(again).has_value());
}

TEST_F(resume_fixture, a_resume_token_used_twice_is_refused_with_resume_token_used) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  client first, second;
  ASSERT_EQ(resume(first, "ann", token), wire::ErrorCode::Ok);
  const std::string next = resume_token(first);
  EXPECT_EQ(resume(second, "ann", token), wire::ErrorCode::ResumeTokenUsed);
  EXPECT_TRUE(sink.closed(second.session));
  EXPECT_FALSE(kicked(first).has_value()) << "the replay took nothing from the resumed session";
  // The token the resume gave works (once) after the next drop.
  drop(first);
  client third, fourth;
  EXPECT_EQ(resume(third, "ann", next), wire::ErrorCode::Ok);
  EXPECT_EQ(resume(fourth, "ann", next), wire::ErrorCode::ResumeTokenUsed);
  tick();
  EXPECT_EQ(sees(bob, "ann"), 1u);
  EXPECT_EQ(online.load(), 2u);
}

TEST_F(resume_fixture, after_the_grace_period_the_character_is_saved_removed_and_not_resumed) {
  client ann, bob;
  std::string token;
  const entity_id id = ann_dropped(ann, bob, token);
  fx.advance(millis(settings.resume_grace_s * 1000 - 500));
  EXPECT_EQ(sees(bob, "ann"), 1u) << "still in grace";
  EXPECT_EQ(online.load(), 2u);
  ticks(30);  // the grace period ends, then the final save releases the name
  EXPECT_TRUE(saw_leave(bob, id));
  EXPECT_EQ(sees(bob, "ann"), 0u);
  EXPECT_EQ(online.load(), 1u);
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 20.5f) << "saved where it stood";
  client late;
  EXPECT_EQ(resume(late, "ann", token), wire::ErrorCode::ResumeUnavailable);
  // A login with the secret continues from the save.
  client login_again = connect();
  login(login_again, "ann", "secret");
  ASSERT_NE(enter(login_again), nullptr);
  EXPECT_FLOAT_EQ(enter(login_again)->position()->x(), 20.5f);
}

TEST_F(resume_fixture, forged_wrong_key_and_session_tokens_do_not_resume_and_the_owner_still_can) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  std::string forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'x' ? 'y' : 'x';
  client c;
  EXPECT_EQ(resume(c, "ann", forged), wire::ErrorCode::SessionTokenInvalid);
  const auto id = stored("ann")->record.character_id;
  const session_keys other{random_session_key(), std::nullopt, true};
  EXPECT_EQ(resume(c, "ann", issue_resume_token(other, id, "ann", 1, wall_now() + 60'000)),
            wire::ErrorCode::SessionTokenInvalid);
  // A session token (the other kind, same key) is no resume token.
  EXPECT_EQ(resume(c, "ann",
                   issue_session_token(settings.session, id, "ann", wall_now() + 60'000)),
            wire::ErrorCode::SessionTokenInvalid);
  // Signed by the server's key but for a nonce the gateway never issued: a guess.
  EXPECT_EQ(resume(c, "ann", issue_resume_token(settings.session, id, "ann", 12345,
                                                wall_now() + 60'000)),
            wire::ErrorCode::ResumeTokenUsed);
  EXPECT_EQ(resume(c, "bob", token), wire::ErrorCode::SessionTokenInvalid) << "not bob's";
  EXPECT_FALSE(kicked(bob).has_value());
  client owner;
  EXPECT_EQ(resume(owner, "ann", token), wire::ErrorCode::Ok);
}

TEST_F(resume_fixture, a_bystander_keeps_playing_while_a_character_drops_and_resumes) {
  client ann, bob;
  std::string token;
  const entity_id id = ann_dropped(ann, bob, token);
  float x = 20;
  std::uint32_t seq = 10;
  for (int i = 0; i < 10; ++i) {
    x += 0.3f;
    move(bob, {x, 22}, seq++);
    tick();
  }
  client again;
  ASSERT_EQ(resume(again, "ann", token), wire::ErrorCode::Ok);
  for (int i = 0; i < 10; ++i) {
    x += 0.3f;
    move(bob, {x, 22}, seq++);
    tick();
  }
  chat(bob, wire::ChatChannel::Say, "still here", seq++);
  EXPECT_EQ(count(receive(bob), MT::MoveCorrection), 0u);
  EXPECT_EQ(count(bob.frames, MT::Error), 0u);
  EXPECT_FALSE(kicked(bob).has_value());
  EXPECT_FALSE(saw_leave(bob, id));
  EXPECT_EQ(heard(again, "still here"), 1u) << "the resumed session hears bob's say";
  EXPECT_NEAR(view(again)[self_id(bob)].x, x, 0.01f) << "bob's moves all taken";
}

TEST_F(resume_fixture, a_login_with_the_secret_during_the_grace_period_takes_over_the_character) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  client login_again = connect();
  login(login_again, "ann", "secret");
  fx.advance(millis(100));
  ASSERT_NE(enter(login_again), nullptr);
  EXPECT_FLOAT_EQ(enter(login_again)->position()->x(), 20.5f);
  tick();
  EXPECT_EQ(sees(bob, "ann"), 1u) << "no duplicate";
  EXPECT_EQ(online.load(), 2u);
  client c;
  EXPECT_EQ(resume(c, "ann", token), wire::ErrorCode::ResumeTokenUsed)
      << "the login issued a new resume token";
}

TEST_F(resume_fixture, a_resume_while_the_old_connection_looks_open_moves_the_character) {
  client ann = connect();
  login(ann, "ann", "secret");
  const std::string token = resume_token(ann);
  tick();
  const entity_id id = self_id(ann);
  client again;
  ASSERT_EQ(resume(again, "ann", token), wire::ErrorCode::Ok);
  EXPECT_EQ(kicked(ann), wire::ErrorCode::ReplacedByNewLogin);
  EXPECT_TRUE(sink.closed(ann.session));
  ASSERT_NE(enter(again), nullptr);
  EXPECT_EQ(enter(again)->self_id(), id);
  // Its old session's close arrives afterwards and changes nothing.
  drop(ann);
  fx.advance(millis(25'000));
  EXPECT_EQ(online.load(), 1u);
  EXPECT_FALSE(kicked(again).has_value());
  EXPECT_FALSE(sink.closed(again.session));
}

TEST_F(resume_fixture, a_resume_whose_new_connection_closes_at_once_leaves_the_character_parked) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  // The new connection sends its resume and is gone before the answer arrives.
  client gone = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "", 1, nullptr, token.c_str()));
  fx.send(gone.player, client_frame(gone.session, MT::LoginRequest, 1, fbb));
  fx.send(gone.player, net::session_closed{gone.session, net::errc::closed_by_peer});
  fx.run();
  tick();
  EXPECT_EQ(sees(bob, "ann"), 1u);
  client again;
  EXPECT_EQ(resume(again, "ann", token), wire::ErrorCode::Ok)
      << "a resume nobody heard the answer to did not use the token";
  tick();
  EXPECT_EQ(sees(bob, "ann"), 1u);
  EXPECT_EQ(online.load(), 2u);
}

TEST_F(resume_fixture, a_zone_failure_during_the_grace_period_saves_the_parked_character_once) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  fx.send(zone(1), zone_fault_msg{"test"});
  fx.run();
  ticks(30);  // the restart, and the parked character's final save from the handed-over state
  EXPECT_EQ(online.load(), 1u) << "bob re-entered; the parked ann was saved and released";
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 20.5f);
  client late;
  EXPECT_EQ(resume(late, "ann", token), wire::ErrorCode::ResumeUnavailable);
  client again = connect();
  login(again, "ann", "secret");
  ticks(2);
  ASSERT_NE(enter(again), nullptr);
  EXPECT_FLOAT_EQ(enter(again)->position()->x(), 20.5f);
  EXPECT_EQ(sees(bob, "ann"), 1u) << "exactly one ann in the restarted zone";
}

TEST_F(resume_fixture, a_session_cut_for_hostile_input_is_not_kept_for_a_resume) {
  client ann = connect();
  login(ann, "ann", "secret");
  const std::string token = resume_token(ann);
  tick();
  fx.send(ann.player, net::session_closed{ann.session, net::errc::frame_too_large});
  fx.run();
  fx.advance(millis(100));
  EXPECT_EQ(online.load(), 0u);
  client again;
  EXPECT_EQ(resume(again, "ann", token), wire::ErrorCode::ResumeUnavailable);
}

TEST_F(resume_fixture, a_resume_racing_a_zone_failure_continues_from_the_final_save) {
  client ann, bob;
  std::string token;
  ann_dropped(ann, bob, token);
  // The resume is accepted while the zone fails: the parked holder leaves (saved from what the
  // failed zone handed over) before the hand-over reaches it, and the resume goes on as a login
  // from that save.
  client again = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "", 1, nullptr, token.c_str()));
  fx.send(again.player, client_frame(again.session, MT::LoginRequest, 1, fbb));
  fx.send(zone(1), zone_fault_msg{"test"});
  fx.run();
  ticks(30);
  ASSERT_NE(result(again), nullptr);
  EXPECT_EQ(result(again)->error(), wire::ErrorCode::Ok);
  const std::string next = resume_token(again);
  ASSERT_NE(enter(again), nullptr);
  EXPECT_FLOAT_EQ(enter(again)->position()->x(), 20.5f);
  EXPECT_EQ(count(again.frames, MT::LoginResult), 1u);
  EXPECT_EQ(sees(bob, "ann"), 1u);
  EXPECT_EQ(online.load(), 2u);
  // The token in that LoginResult is the one that works next.
  drop(again);
  client third;
  EXPECT_EQ(resume(third, "ann", next), wire::ErrorCode::Ok);
}

TEST_F(resume_fixture, with_no_grace_period_a_drop_logs_out_at_once) {
  settings.resume_grace_s = 0;
  client ann = connect();
  login(ann, "ann", "secret");
  EXPECT_TRUE(resume_token(ann).empty());
  tick();
  drop(ann);
  fx.advance(millis(100));
  EXPECT_EQ(online.load(), 0u);
}

}  // namespace
}  // namespace quay::game::server
