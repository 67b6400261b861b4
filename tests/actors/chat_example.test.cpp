// The worked example of docs/sdk.md (a chat room), compiled and checked, so the guide stays
// true.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace chat {

using namespace std::chrono_literals;

// ---- messages: plain C++ types -------------------------------------------------------------
struct join {
  std::string name;
};
struct leave {};
struct say {
  std::string text;
};
struct line {  // room -> member
  std::string from;
  std::string text;
};
struct who_is_here {  // a request: the reply type is part of the message
  using reply_type = std::vector<std::string>;
};
struct idle_check {};  // the room's timer message

// ---- the room --------------------------------------------------------------------------------
class room final : public quay::actor {
 public:
  explicit room(quay::millis idle_after) : idle_after_(idle_after) {}

  static void define(quay::handlers<room>& h) {
    h.on<&room::on_join>()
        .on<&room::on_leave>()
        .on<&room::on_say>()
        .on<&room::on_who>()
        .on<&room::on_idle_check>()
        .on<&room::on_down>();
  }

 private:
  void on_start() override { every(idle_after_, idle_check{}); }

  void on_join(join& j) {
    members_.push_back({sender(), j.name});
    monitor(sender());  // a member that dies leaves the room
    broadcast("room", j.name + " joined");
  }
  void on_leave(leave&) { remove(sender()); }
  void on_say(say& s) {
    for (const auto& m : members_) {
      if (m.ref == sender()) {
        broadcast(m.name, s.text);
        spoke_ = true;
      }
    }
  }
  std::vector<std::string> on_who(const who_is_here&) {  // the return value is the reply
    std::vector<std::string> names;
    for (const auto& m : members_) {
      names.push_back(m.name);
    }
    return names;
  }
  void on_idle_check(idle_check&) {
    if (!spoke_ && members_.empty()) {
      stop();  // nobody here and nothing said for a whole period: close the room
    }
    spoke_ = false;
  }
  void on_down(quay::down& d) { remove(d.who); }

  void broadcast(const std::string& from, const std::string& text) {
    for (const auto& m : members_) {
      send(m.ref, line{from, text});
    }
  }
  void remove(quay::actor_ref who) {
    std::erase_if(members_, [&](const member& m) { return m.ref == who; });
  }

  struct member {
    quay::actor_ref ref;
    std::string name;
  };
  quay::millis idle_after_;
  std::vector<member> members_;
  bool spoke_ = false;
};

// ---- a member: a coroutine handler asks the room who is there --------------------------------
struct enter {
  quay::actor_ref room;
  std::string name;
};
struct look_around {};

class member final : public quay::actor {
 public:
  explicit member(std::vector<std::string>* seen) : seen_(seen) {}
  static void define(quay::handlers<member>& h) {
    h.on<&member::on_enter>().on<&member::on_line>().on<&member::on_look>();
  }

 private:
  void on_enter(enter& e) {
    room_ = e.room;
    send(room_, join{e.name});
  }
  void on_line(line& l) { seen_->push_back(l.from + ": " + l.text); }
  quay::task<> on_look(look_around) {
    quay::result<std::vector<std::string>> r = co_await ask(room_, who_is_here{}, 500ms);
    if (!r) {
      seen_->push_back("no answer: " + r.error().message());
      co_return;
    }
    std::string all;
    for (const auto& n : *r) {
      all += (all.empty() ? "" : ",") + n;
    }
    seen_->push_back("here: " + all);
  }
  quay::actor_ref room_;
  std::vector<std::string>* seen_;
};

}  // namespace chat

namespace {

using namespace std::chrono_literals;

TEST(chat_example, members_join_talk_ask_who_is_here_and_the_idle_room_closes) {
  quay::testing::actor_fixture f;
  std::vector<std::string> alice_saw;
  std::vector<std::string> bob_saw;
  const quay::actor_ref room = f.spawn<chat::room>(1000ms);
  f.sys.register_name("lobby", room);
  const quay::actor_ref alice = f.spawn<chat::member>(&alice_saw);
  const quay::actor_ref bob = f.spawn<chat::member>(&bob_saw);
  f.send(alice, chat::enter{*f.sys.whereis("lobby"), "alice"});
  f.run();
  f.send(bob, chat::enter{room, "bob"});
  f.run();
  f.send(alice, chat::look_around{});
  f.run();
  ASSERT_EQ(alice_saw.size(), 3u);
  EXPECT_EQ(alice_saw[0], "room: alice joined");
  EXPECT_EQ(alice_saw[1], "room: bob joined");
  EXPECT_EQ(alice_saw[2], "here: alice,bob");
  EXPECT_EQ(bob_saw, std::vector<std::string>{"room: bob joined"});

  // Members leave (bob by stopping: the room's monitor removes him).
  f.sys.stop(bob);
  f.send(room, chat::leave{});  // from outside: not a member, ignored
  f.run();
  f.send(alice, chat::look_around{});
  f.run();
  EXPECT_EQ(alice_saw.back(), "here: alice");

  // The room's timer closes it once it is empty for a whole period.
  f.sys.stop(alice);
  f.run();
  f.advance(1000ms);
  EXPECT_FALSE(f.sys.alive(room));
  EXPECT_FALSE(f.sys.whereis("lobby"));
}

}  // namespace
