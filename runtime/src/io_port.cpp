// io_port: the platform-neutral face of the native port. Everything forwards to the backend
// chosen by backend/backend.hpp (epoll on Linux, IOCP on Windows).
#include "quay/runtime/io_port.hpp"

#include "backend/backend.hpp"

namespace quay {

io_port::io_port(io_port_options options)
    : backend_(std::make_unique<detail::native_backend>(*this, options)) {}

io_port::~io_port() {
  stop();
  backend_.reset();
}

void io_port::stop() { backend_->stop(); }

void io_port::wait_stopped() { backend_->wait_stopped(); }

void io_port::post(completion* c) noexcept { backend_->post(c); }

port_time io_port::now() const noexcept { return backend_->now(); }

timer_id io_port::start_timer(millis delay, timer_callback cb, millis period) {
  return backend_->timers().start(backend_->now(), delay, std::move(cb), period);
}

bool io_port::cancel_timer(timer_id id) noexcept { return backend_->timers().cancel(id); }

void io_port::run_blocking(unique_function<void()> work,
                           unique_function<void(std::error_code)> done) {
  backend_->blocking().submit(std::move(work), std::move(done));
}

std::size_t io_port::concurrency() const noexcept { return backend_->concurrency(); }

bool io_port::in_worker() const noexcept { return backend_->in_worker(); }

}  // namespace quay
