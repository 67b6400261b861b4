#include "quay/net/framer.hpp"

#include <algorithm>
#include <cstring>

#include "quay/net/error.hpp"
#include "quay/net/frame.hpp"

#include "block_cache.hpp"

namespace quay::net {

namespace {

// A block is [refs:4][capacity:4][lead:4][data...] (block_cache.hpp): data() sits 4 bytes
// before an 8-byte boundary (the allocation is at least 8-aligned), so a frame whose header
// starts at an offset that is a multiple of 8 has its payload 8-aligned.
constexpr std::size_t data_offset = detail::block_data_offset;
static_assert(sizeof(detail::shared_bytes) + sizeof(std::uint32_t) <= data_offset - frame_header_bytes);
static_assert(framer::large_block_bytes <= detail::max_cached_block_bytes);

constexpr std::uint32_t align8(std::uint32_t n) noexcept { return (n + 7u) & ~7u; }

using detail::block_capacity;

bool unreferenced(detail::shared_bytes* b) noexcept {
  // acquire: pairs with the release of the last frame that referenced the block, so its
  // readers are done before the bytes are written again.
  return (b->refs.load(std::memory_order_acquire) & detail::ref_mask) == 1;
}

std::uint32_t u32(std::size_t n) noexcept { return static_cast<std::uint32_t>(n); }

}  // namespace

framer::framer(std::size_t max_frame_size, std::size_t block_bytes)
    : max_frame_(u32(std::clamp<std::size_t>(max_frame_size, 1, frame_size_cap))),
      block_bytes_(u32(std::clamp<std::size_t>(block_bytes, 2 * inline_bytes, frame_size_cap))) {}

framer::framer(framer&& o) noexcept
    : block_(std::exchange(o.block_, nullptr)),
      spare_(std::exchange(o.spare_, nullptr)),
      capacity_(o.capacity_),
      begin_(o.begin_),
      end_(o.end_),
      max_frame_(o.max_frame_),
      block_bytes_(o.block_bytes_),
      busy_block_(o.busy_block_),
      last_prepared_(o.last_prepared_),
      offending_length_(o.offending_length_),
      error_(o.error_),
      hot_(o.hot_) {
  std::memcpy(inline_, o.inline_, inline_bytes);
  o.capacity_ = inline_bytes;
  o.begin_ = o.end_ = o.last_prepared_ = 0;
}

framer& framer::operator=(framer&& o) noexcept {
  if (this != &o) {
    this->~framer();
    ::new (this) framer(std::move(o));
  }
  return *this;
}

framer::~framer() {
  drop_block();
  if (spare_ != nullptr) detail::release_shared_bytes(spare_);
}

std::byte* framer::data() noexcept {
  return block_ != nullptr ? reinterpret_cast<std::byte*>(block_) + data_offset : inline_;
}

std::size_t framer::heap_bytes() const noexcept {
  std::size_t n = block_ != nullptr ? capacity_ : 0;
  if (spare_ != nullptr) n += block_capacity(spare_);
  return n;
}

bool framer::exclusive() const noexcept { return block_ != nullptr && unreferenced(block_); }

std::size_t framer::block_size_for(std::size_t needed) const noexcept {
  std::size_t size = busy_block_ != 0 ? busy_block_ : block_bytes_;
  if (needed > 0) {
    // Room for about four such frames per receive; a frame over the large block gets a block
    // of exactly its size. `needed` was validated against the max frame size by the caller,
    // so this never allocates for a hostile length.
    size = std::max({size, std::min(4 * needed, large_block_bytes), needed});
  }
  return size;
}

void framer::switch_block(std::size_t usable) {
  detail::shared_bytes* fresh = nullptr;
  if (spare_ != nullptr && block_capacity(spare_) == usable && unreferenced(spare_)) {
    fresh = std::exchange(spare_, nullptr);  // the block before: its frames are gone
  } else {
    fresh = detail::take_block(usable);  // this thread's block cache, else malloc
  }
  std::byte* to = reinterpret_cast<std::byte*>(fresh) + data_offset;
  const std::size_t n = buffered();
  if (n > 0) std::memcpy(to, data() + begin_, n);
  // The block before is kept for reuse (no malloc/free per block while a stream runs; freeing
  // blocks near 64 KiB also made glibc trim its arena with an madvise each time). Streams of
  // large frames keep large blocks while busy; a one-off giant frame's block is not kept.
  const std::size_t busy_limit = std::max<std::size_t>(large_block_bytes, block_bytes_);
  if (block_ != nullptr && capacity_ <= busy_limit) {
    if (spare_ != nullptr) detail::release_shared_bytes(spare_);
    spare_ = std::exchange(block_, nullptr);
  } else {
    drop_block();
  }
  block_ = fresh;
  capacity_ = u32(usable);
  begin_ = 0;
  end_ = u32(n);
  if (usable <= busy_limit) busy_block_ = u32(usable);
}

void framer::drop_block() noexcept {
  if (block_ != nullptr) detail::release_shared_bytes(std::exchange(block_, nullptr));
}

void framer::go_inline() noexcept {
  drop_block();
  if (spare_ != nullptr) detail::release_shared_bytes(std::exchange(spare_, nullptr));
  capacity_ = inline_bytes;
  begin_ = end_ = 0;
  busy_block_ = 0;
}

std::span<std::byte> framer::prepare(bool keep_block) {
  const quay::detail::owner_scope owner(owner_, "framer::prepare");
  last_prepared_ = 0;
  if (error_) return {};
  if (begin_ == end_) {
    if (block_ == nullptr) {
      begin_ = end_ = 0;
      if (hot_) switch_block(block_size_for(0));  // busy stream: from the inline area to a block
    } else if (!keep_block && !hot_) {
      go_inline();  // quiet stream: an idle session keeps only the inline area
    } else {
      const std::size_t normal = block_size_for(0);
      if (exclusive() && capacity_ == normal) {
        begin_ = end_ = 0;  // no frame references the block: start it over
      } else if (capacity_ == normal && spare_ != nullptr && block_capacity(spare_) == normal &&
                 unreferenced(spare_)) {
        // Frames still reference this block (the last receive's, being sent or handled) but
        // none the one before: take that one from its start. Two blocks in turn keep a busy
        // session's read memory small and warm in the cache, where walking through one block
        // touched all of it (1,000 sessions: 16 MB instead of about 2).
        std::swap(block_, spare_);
        begin_ = end_ = 0;
      } else if (!exclusive() && capacity_ >= std::size_t{align8(end_)} + normal / 8) {
        // Frames still reference the bytes before end_: continue after them, realigned.
        begin_ = end_ = align8(end_);
      } else {
        switch_block(normal);  // the tail is short, or a large-frame block shrinks back
      }
    }
  }

  // How many contiguous bytes the frame at the head needs, when its header is complete and
  // valid. An invalid header is left for next() to report.
  std::size_t needed = 0;
  if (buffered() >= frame_header_bytes) {
    const std::uint32_t len = read_frame_header(data() + begin_);
    if (len != 0 && len <= max_frame_) needed = frame_header_bytes + len;
  }
  const std::size_t normal = block_size_for(0);
  bool move = end_ == capacity_ || needed > std::size_t{capacity_} - begin_;
  // A header split at the end of a block: start the next frame in a fresh one rather than
  // receive a few bytes at a time.
  if (!move && block_ != nullptr && needed == 0 && begin_ < end_ &&
      std::size_t{capacity_} - end_ < normal / 8) {
    move = true;
  }
  if (move) {
    const std::size_t n = buffered();
    std::size_t want = block_size_for(needed);
    // A whole frame (or an incomplete header) at the head: room for it and a block more.
    if (needed <= n) want = std::max(want, n + block_bytes_);
    // A small frame stays in the inline area, unless the area is full of bytes not yet taken
    // (a caller feeding more than one receive's worth before taking frames, as the session
    // does with the bytes that decided its protocol): then a block, so space is never empty.
    if (block_ == nullptr && needed != 0 && needed <= inline_bytes && n < inline_bytes) {
      std::memmove(inline_, inline_ + begin_, n);
      begin_ = 0;
      end_ = u32(n);
    } else if (exclusive() && capacity_ >= want) {
      std::memmove(data(), data() + begin_, n);
      begin_ = 0;
      end_ = u32(n);
    } else {
      switch_block(want);  // the only copy: the unfinished frame at the head
    }
  }
  last_prepared_ = capacity_ - end_;
  return {data() + end_, last_prepared_};
}

void framer::commit(std::size_t n) noexcept {
  const quay::detail::owner_scope owner(owner_, "framer::commit");
  n = std::min<std::size_t>(n, last_prepared_);
  end_ += u32(n);
  hot_ = n > 0 && n == last_prepared_;
  last_prepared_ = 0;
}

decode_status framer::next(std::span<const std::byte>& payload) noexcept {
  const quay::detail::owner_scope owner(owner_, "framer::next");
  if (error_) return decode_status::error;
  if (buffered() < frame_header_bytes) return decode_status::need_more;
  const std::uint32_t len = read_frame_header(data() + begin_);
  if (len == 0 || len > max_frame_) {
    error_ = make_error_code(len == 0 ? errc::zero_length_frame : errc::frame_too_large);
    offending_length_ = len;
    return decode_status::error;
  }
  if (buffered() < frame_header_bytes + len) return decode_status::need_more;
  payload = {data() + begin_ + frame_header_bytes, len};
  begin_ += u32(frame_header_bytes) + len;
  return decode_status::frame;
}

decode_status framer::next_frame(frame& out) {
  std::span<const std::byte> p;
  const decode_status st = next(p);
  if (st != decode_status::frame) return st;
  if (block_ != nullptr && (reinterpret_cast<std::uintptr_t>(p.data()) & 7u) == 0) {
    out = frame(block_, p.data() - frame_header_bytes);  // a view: no copy
  } else {
    out = frame::copy_of(p);  // the inline area, or a payload the sender left unaligned
  }
  return st;
}

std::size_t framer::feed(std::span<const std::byte> bytes) {
  std::span<std::byte> space = prepare();
  const std::size_t n = std::min(space.size(), bytes.size());
  if (n > 0) std::memcpy(space.data(), bytes.data(), n);
  commit(n);
  return n;
}

void framer::release_idle() noexcept {
  const quay::detail::owner_scope owner(owner_, "framer::release_idle");
  if (begin_ != end_) return;
  go_inline();
  hot_ = false;
}

}  // namespace quay::net
