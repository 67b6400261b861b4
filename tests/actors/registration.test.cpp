// Handler registration: const and noexcept handlers, promise parameters, and a duplicate
// handler for one message type refused at the first spawn. (Wrong shapes are compile-time
// errors: see compile_fail/handler_shapes.cpp, run as the handler_shapes.compile_fail test.)

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using quay::actor_ref;
using quay::result;
using quay::testing::actor_fixture;

struct ping {
  int n;
};
struct twice {
  using reply_type = int;
  int n;
};
struct later {
  using reply_type = int;
  int n;
};

class shapes final : public quay::actor {
 public:
  explicit shapes(std::vector<int>* seen) : seen_(seen) {}
  static void define(quay::handlers<shapes>& h) {
    h.on<&shapes::on_ping>().on<&shapes::on_twice>().on<&shapes::on_later>();
  }

 private:
  void on_ping(const ping& p) const noexcept { seen_->push_back(p.n); }
  int on_twice(const twice& t) const { return t.n * 2; }
  void on_later(later l, quay::response_promise<int> p) noexcept { (void)p.deliver(l.n + 1); }
  std::vector<int>* seen_;
};

struct go {
  actor_ref target;
};

class asker final : public quay::actor {
 public:
  explicit asker(std::vector<int>* got) : got_(got) {}
  static void define(quay::handlers<asker>& h) { h.on<&asker::on_go>(); }

 private:
  quay::task<> on_go(go g) {
    result<int> a = co_await ask(g.target, twice{4}, quay::millis{1000});
    result<int> b = co_await ask(g.target, later{4}, quay::millis{1000});
    got_->push_back(a ? *a : -1);
    got_->push_back(b ? *b : -1);
  }
  std::vector<int>* got_;
};

TEST(registration, const_and_noexcept_member_handlers_are_called) {
  actor_fixture f;
  std::vector<int> seen;
  std::vector<int> got;
  const actor_ref s = f.spawn<shapes>(&seen);
  f.send(s, ping{7});
  f.send(f.spawn<asker>(&got), go{s});
  f.run();
  EXPECT_EQ(seen, std::vector<int>{7});
  EXPECT_EQ(got, (std::vector<int>{8, 5}));
}

class twice_registered final : public quay::actor {
 public:
  static void define(quay::handlers<twice_registered>& h) {
    h.on<&twice_registered::first>().on<&twice_registered::second>();
  }

 private:
  void first(const ping&) {}
  void second(ping) {}
};

TEST(registration, two_handlers_for_one_message_type_make_the_first_spawn_throw_naming_both) {
  actor_fixture f;
  try {
    f.spawn<twice_registered>();
    FAIL() << "spawn should have thrown";
  } catch (const std::logic_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("two handlers for one message type"), std::string::npos) << what;
    EXPECT_NE(what.find("ping"), std::string::npos) << what;
    EXPECT_NE(what.find("twice_registered"), std::string::npos) << what;
  }
  EXPECT_EQ(f.sys.live_actors(), 0u);
  // It keeps failing (the table is never half built), and other actors are unaffected.
  EXPECT_THROW(f.spawn<twice_registered>(), std::logic_error);
  std::vector<int> seen;
  f.send(f.spawn<shapes>(&seen), ping{1});
  f.run();
  EXPECT_EQ(seen, std::vector<int>{1});
}

}  // namespace
