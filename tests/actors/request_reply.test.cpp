// ask(): callback and co_await forms, replies, timeouts, dead and failing targets.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_errc;
using quay::actor_ref;
using quay::result;
using quay::testing::actor_fixture;

struct add {
  using reply_type = int;
  int a;
  int b;
};
struct slow_add {  // answered only after a timer: lets a request time out
  using reply_type = int;
  int a;
  int b;
};
struct explode {
  using reply_type = int;
};
struct never_handled {
  using reply_type = int;
};

class calculator final : public quay::actor {
 public:
  static void define(quay::handlers<calculator>& h) {
    h.on<&calculator::on_add>().on<&calculator::on_slow>().on<&calculator::on_explode>();
  }

 private:
  int on_add(const add& m) { return m.a + m.b; }
  quay::task<int> on_slow(slow_add m) {
    const int half = co_await partial(m.a);  // a nested task before answering
    co_return half + m.b;
  }
  quay::task<int> partial(int a) { co_return a; }
  int on_explode(explode&) { throw std::runtime_error("calculator exploded"); }
};

// An awaitable that never resumes: the coroutine stays suspended until its actor stops.
struct forever {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

// Never answers: its handler suspends for good, holding the request.
class black_hole final : public quay::actor {
 public:
  static void define(quay::handlers<black_hole>& h) { h.on<&black_hole::on_add>(); }

 private:
  quay::task<int> on_add(add m) {
    co_await forever{};
    co_return m.a + m.b;
  }
};

struct outcome {
  std::vector<int> values;
  std::vector<std::error_code> errors;
  std::vector<actor_ref> senders_in_continuation;
};

struct go {
  actor_ref target;
  int kind;  // 0 add, 1 explode, 2 never_handled, 3 add with tiny timeout to black hole
};

class client final : public quay::actor {
 public:
  explicit client(outcome* out) : out_(out) {}
  static void define(quay::handlers<client>& h) { h.on<&client::on_go>(); }

 private:
  void on_go(go& g) {
    auto done = [this](result<int> r) {
      out_->senders_in_continuation.push_back(sender());
      if (r) {
        out_->values.push_back(*r);
      } else {
        out_->errors.push_back(r.error());
      }
    };
    switch (g.kind) {
      case 0:
        ask(g.target, add{2, 3}, 1000ms, done);
        break;
      case 1:
        ask(g.target, explode{}, 1000ms, done);
        break;
      case 2:
        ask(g.target, never_handled{}, 1000ms, done);
        break;
      default:
        ask(g.target, add{1, 1}, 50ms, done);
        break;
    }
  }
  outcome* out_;
};

class co_client final : public quay::actor {
 public:
  explicit co_client(outcome* out) : out_(out) {}
  static void define(quay::handlers<co_client>& h) { h.on<&co_client::on_go>(); }

 private:
  quay::task<> on_go(go g) {
    result<int> r = co_await ask(g.target, add{20, 22}, 1000ms);
    out_->senders_in_continuation.push_back(sender());
    if (r) {
      out_->values.push_back(*r);
    } else {
      out_->errors.push_back(r.error());
    }
    // A second request from the same coroutine, through a nested task.
    const int twice = co_await twice_via(g.target);
    out_->values.push_back(twice);
  }
  quay::task<int> twice_via(actor_ref t) {
    result<int> a = co_await ask(t, add{1, 2}, 1000ms);
    result<int> b = co_await ask(t, add{3, 4}, 1000ms);
    co_return (a ? *a : -100) + (b ? *b : -100);
  }
  outcome* out_;
};

TEST(request_reply, a_callback_ask_receives_the_handlers_return_value) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref c = f.spawn<client>(&out);
  f.send(c, go{calc, 0});
  f.run();
  ASSERT_EQ(out.values, std::vector<int>{5});
  EXPECT_TRUE(out.errors.empty());
  EXPECT_FALSE(out.senders_in_continuation[0]);  // restored: the go came from outside
}

TEST(request_reply, a_coroutine_ask_resumes_with_the_reply_and_nested_tasks_work) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref c = f.spawn<co_client>(&out);
  f.send(c, go{calc, 0});
  f.run();
  ASSERT_EQ(out.values, (std::vector<int>{42, 10}));
  EXPECT_TRUE(out.errors.empty());
}

TEST(request_reply, a_coroutine_handler_can_answer_a_request_with_co_return) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  struct go_slow {};
  class slow_client final : public quay::actor {
   public:
    slow_client(outcome* o, actor_ref t) : out_(o), t_(t) {}
    static void define(quay::handlers<slow_client>& h) { h.on<&slow_client::on_go>(); }

   private:
    quay::task<> on_go(go_slow) {
      result<int> r = co_await ask(t_, slow_add{7, 8}, 1000ms);
      out_->values.push_back(r ? *r : -1);
    }
    outcome* out_;
    actor_ref t_;
  };
  const actor_ref c = f.spawn<slow_client>(&out, calc);
  f.send(c, go_slow{});
  f.run();
  EXPECT_EQ(out.values, std::vector<int>{15});
}

// Answers `doubled` later: it asks the calculator first and replies from the continuation (the
// handler returns void, so the runtime does not answer for it).
struct doubled {
  using reply_type = int;
  int a;
  int b;
};
struct note {  // not doubled's reply type: reply(note) stays a plain send to sender()
  int v;
};

class forwarder final : public quay::actor {
 public:
  explicit forwarder(actor_ref calc) : calc_(calc) {}
  static void define(quay::handlers<forwarder>& h) { h.on<&forwarder::on_doubled>(); }

 private:
  void on_doubled(const doubled& m) {
    ask(calc_, add{m.a, m.b}, 1000ms, [this](result<int> r) {
      reply(note{1});  // another type: a plain message to the asker
      reply(r ? *r * 2 : -1);
      reply(-5);       // already answered: a plain message, never a second answer
    });
  }
  actor_ref calc_;
};

class co_forwarder final : public quay::actor {
 public:
  explicit co_forwarder(actor_ref calc) : calc_(calc) {}
  static void define(quay::handlers<co_forwarder>& h) { h.on<&co_forwarder::on_doubled>(); }

 private:
  quay::task<> on_doubled(doubled m) {
    result<int> r = co_await ask(calc_, add{m.a, m.b}, 1000ms);
    reply(r ? *r * 2 : -1);
  }
  actor_ref calc_;
};

struct ask_doubled {
  actor_ref target;
};

// Asks `doubled`; records plain (non-reply) ints and notes it receives in `plain`.
class doubled_client final : public quay::actor {
 public:
  doubled_client(outcome* out, std::vector<int>* plain) : out_(out), plain_(plain) {}
  static void define(quay::handlers<doubled_client>& h) {
    h.on<&doubled_client::on_go>().on<&doubled_client::on_int>().on<&doubled_client::on_note>();
  }

 private:
  void on_go(ask_doubled& g) {
    ask(g.target, doubled{2, 3}, 1000ms, [this](result<int> r) {
      if (r) {
        out_->values.push_back(*r);
      } else {
        out_->errors.push_back(r.error());
      }
    });
  }
  void on_int(int& v) { plain_->push_back(v); }
  void on_note(note& n) { plain_->push_back(1000 + n.v); }
  outcome* out_;
  std::vector<int>* plain_;
};

TEST(request_reply, reply_inside_an_ask_continuation_answers_the_request_the_handler_was_serving) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref fwd = f.spawn<forwarder>(calc);
  std::vector<int> plain;
  const actor_ref c = f.spawn<doubled_client>(&out, &plain);
  f.send(c, ask_doubled{fwd});
  f.run();  // no time passes: only a real answer can complete the ask
  ASSERT_EQ(out.values, std::vector<int>{10});
  EXPECT_TRUE(out.errors.empty());
  // The reply of another type and the one after the answer arrived as plain messages.
  EXPECT_EQ(plain, (std::vector<int>{1001, -5}));
  EXPECT_EQ(f.sys.unhandled(), 0u);
}

TEST(request_reply, reply_after_co_await_in_a_coroutine_handler_answers_the_request) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref fwd = f.spawn<co_forwarder>(calc);
  std::vector<int> plain;
  const actor_ref c = f.spawn<doubled_client>(&out, &plain);
  f.send(c, ask_doubled{fwd});
  f.run();
  ASSERT_EQ(out.values, std::vector<int>{10});
  EXPECT_TRUE(out.errors.empty());
  EXPECT_TRUE(plain.empty());  // the answer was a reply, not a stray message
  EXPECT_EQ(f.sys.unhandled(), 0u);
}

TEST(request_reply, asking_a_dead_actor_gives_dead_target_not_a_hang) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  f.sys.stop(calc);
  f.run();
  ASSERT_FALSE(f.sys.alive(calc));
  const actor_ref c = f.spawn<client>(&out);
  f.send(c, go{calc, 0});
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::dead_target);
  f.advance(2000ms);  // past the deadline: the request is settled, no second outcome
  EXPECT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(f.port.pending_timers(), 0u);
}

TEST(request_reply, each_request_times_out_at_its_own_deadline) {
  actor_fixture f;
  outcome out;
  const actor_ref hole = f.spawn<black_hole>();
  class multi final : public quay::actor {
   public:
    multi(outcome* o, actor_ref t) : out_(o), t_(t) {}
    static void define(quay::handlers<multi>& h) { h.on<&multi::on_go>(); }

   private:
    void on_go(go& g) {
      const quay::millis timeout{g.kind};
      ask(t_, add{g.kind, 0}, timeout, [this, g](result<int> r) {
        out_->values.push_back(g.kind);
        out_->errors.push_back(r.error());
      });
    }
    outcome* out_;
    actor_ref t_;
  };
  const actor_ref c = f.spawn<multi>(&out, hole);
  f.send(c, go{hole, 300});
  f.send(c, go{hole, 100});  // an earlier deadline after a later one
  f.send(c, go{hole, 200});
  f.run();
  f.advance(99ms);
  EXPECT_TRUE(out.values.empty());
  f.advance(1ms);
  EXPECT_EQ(out.values, std::vector<int>{100});
  f.advance(100ms);
  EXPECT_EQ(out.values, (std::vector<int>{100, 200}));
  f.advance(100ms);
  EXPECT_EQ(out.values, (std::vector<int>{100, 200, 300}));
  for (const auto& e : out.errors) {
    EXPECT_EQ(e, actor_errc::timed_out);
  }
}

TEST(request_reply, a_request_without_an_answer_times_out_with_an_error) {
  actor_fixture f;
  outcome out;
  const actor_ref hole = f.spawn<black_hole>();
  const actor_ref c = f.spawn<client>(&out);
  f.send(c, go{hole, 3});
  f.run();
  EXPECT_TRUE(out.values.empty());
  EXPECT_TRUE(out.errors.empty());
  f.advance(49ms);
  EXPECT_TRUE(out.errors.empty());
  f.advance(1ms);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::timed_out);
  EXPECT_TRUE(out.values.empty());
}

TEST(request_reply, a_target_that_throws_gives_target_failed_and_stops) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref c = f.spawn<client>(&out);
  f.send(c, go{calc, 1});
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::target_failed);
  EXPECT_FALSE(f.sys.alive(calc));
  EXPECT_TRUE(f.sys.alive(c));
}

TEST(request_reply, a_request_the_target_has_no_handler_for_gives_unhandled) {
  actor_fixture f;
  outcome out;
  const actor_ref calc = f.spawn<calculator>();
  const actor_ref c = f.spawn<client>(&out);
  f.send(c, go{calc, 2});
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::unhandled);
}

TEST(request_reply, a_target_stopping_while_its_handler_awaits_gives_target_stopped) {
  actor_fixture f;
  outcome out;
  const actor_ref hole = f.spawn<black_hole>();
  class asker final : public quay::actor {
   public:
    asker(outcome* o, actor_ref t) : out_(o), t_(t) {}
    static void define(quay::handlers<asker>& h) { h.on<&asker::on_go>(); }

   private:
    void on_go(go&) {
      ask(t_, add{1, 2}, 0ms, [this](result<int> r) {
        if (r) {
          out_->values.push_back(*r);
        } else {
          out_->errors.push_back(r.error());
        }
      });
    }
    outcome* out_;
    actor_ref t_;
  };
  const actor_ref c = f.spawn<asker>(&out, hole);
  f.send(c, go{});
  f.run();
  EXPECT_TRUE(out.errors.empty());
  f.sys.stop(hole);
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::target_stopped);
}

}  // namespace
