// Sending, typed dispatch, sender(), per-sender order and unhandled messages, on the
// deterministic fixture.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using quay::actor_ref;
using quay::testing::actor_fixture;

struct ping {
  int n;
};
struct text {
  std::string s;
};
struct big {
  char bytes[200];
  int tag;
};
struct nobody_handles {
  int x;
};

struct log_entry {
  std::string what;
  actor_ref from;
};

class recorder final : public quay::actor {
 public:
  explicit recorder(std::vector<log_entry>* out) : out_(out) {}
  static void define(quay::handlers<recorder>& h) {
    h.on<&recorder::on_ping>().on<&recorder::on_text>().on<&recorder::on_big>();
  }

 private:
  void on_ping(const ping& p) { out_->push_back({"ping " + std::to_string(p.n), sender()}); }
  void on_text(text t) { out_->push_back({"text " + t.s, sender()}); }
  void on_big(big& b) { out_->push_back({"big " + std::to_string(b.tag), sender()}); }
  std::vector<log_entry>* out_;
};

class forwarder final : public quay::actor {
 public:
  explicit forwarder(actor_ref to) : to_(to) {}
  static void define(quay::handlers<forwarder>& h) { h.on<&forwarder::on_ping>(); }

 private:
  void on_ping(ping p) { send(to_, ping{p.n * 10}); }
  actor_ref to_;
};

TEST(messaging, a_message_reaches_the_handler_for_its_type) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  EXPECT_FALSE(f.send(r, ping{1}));
  EXPECT_FALSE(f.send(r, text{"hello"}));
  f.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].what, "ping 1");
  EXPECT_EQ(got[1].what, "text hello");
}

TEST(messaging, messages_larger_than_the_inline_storage_arrive_intact) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  big b{};
  b.tag = 42;
  f.send(r, b);
  f.run();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].what, "big 42");
}

TEST(messaging, messages_from_one_sender_arrive_in_the_order_sent) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  for (int i = 0; i < 100; ++i) {
    f.send(r, ping{i});
  }
  f.run();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].what, "ping " + std::to_string(i));
  }
}

TEST(messaging, the_handler_knows_the_sending_actor_and_outside_sends_have_none) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  const actor_ref fw = f.spawn<forwarder>(r);
  f.send(fw, ping{4});
  f.send(r, ping{5});
  f.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].what, "ping 5");
  EXPECT_FALSE(got[0].from);
  EXPECT_EQ(got[1].what, "ping 40");
  EXPECT_EQ(got[1].from, fw);
}

TEST(messaging, each_step_of_the_fixture_handles_one_message) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  f.send(r, ping{1});
  f.send(r, ping{2});
  ASSERT_TRUE(f.step());  // start turn
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(f.step());
  EXPECT_EQ(got.size(), 1u);
  ASSERT_TRUE(f.step());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_FALSE(f.step());
}

TEST(messaging, a_message_without_a_handler_is_counted_as_unhandled) {
  actor_fixture f;
  std::vector<log_entry> got;
  const actor_ref r = f.spawn<recorder>(&got);
  f.send(r, nobody_handles{1});
  f.send(r, ping{2});
  f.run();
  EXPECT_EQ(f.sys.unhandled(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(f.sys.alive(r));
}

TEST(messaging, an_actor_ref_is_at_most_sixteen_bytes_and_null_by_default) {
  static_assert(sizeof(actor_ref) <= 16);
  actor_ref r;
  EXPECT_FALSE(r);
}

}  // namespace
