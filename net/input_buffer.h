#pragma once
// A connection's receive buffer. The kernel writes at end() while a recv is in
// flight, so memory only moves (compaction, growth) when no recv is pending;
// consuming lines just advances start.

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace werk::net {

// Memory from malloc: a growing buffer is realloc'ed, which for large blocks
// (mapped from 4 MiB, see werkd's main) moves page tables instead of copying
// bytes — a 16 MiB line no longer stalls the shard copying its first half.
struct FreeBytes {
  void operator()(char* p) const { std::free(p); }
};
using MallocBytes = std::unique_ptr<char[], FreeBytes>;

inline MallocBytes AllocateBytes(size_t n) {
  char* p = static_cast<char*>(std::malloc(n));
  if (!p) throw std::bad_alloc();
  return MallocBytes(p);
}

class InputBuffer {
 public:
  static constexpr size_t kInitialBytes = 16 << 10;
  static constexpr size_t kMinFreeBytes = 4 << 10;

  size_t size() const { return end_ - start_; }
  size_t capacity() const { return cap_; }
  char* write_ptr() { return data_.get() + end_; }
  size_t writable() const { return cap_ - end_; }
  void Produced(size_t n) { end_ += n; }

  // The next complete line (without its "\n" and one optional "\r"), or
  // nullopt-like empty result with `found` false. Remembers how far it has
  // searched so a long line arriving in pieces is scanned once.
  bool NextLine(std::string_view* line) {
    const char* base = data_.get();
    size_t from = scan_ > start_ ? scan_ : start_;
    const void* nl = from < end_ ? std::memchr(base + from, '\n', end_ - from) : nullptr;
    if (!nl) {
      scan_ = end_;
      return false;
    }
    const size_t pos = size_t(static_cast<const char*>(nl) - base);
    size_t len = pos - start_;
    if (len > 0 && base[start_ + len - 1] == '\r') --len;
    *line = std::string_view(base + start_, len);
    start_ = pos + 1;
    scan_ = start_;
    return true;
  }

  // Hands over the memory block that holds `line` (the line NextLine just
  // returned, or part of it), so a long line is decoded where it was received instead of
  // copied: returns the block, with the line at `*offset` and `*capacity`
  // bytes allocated in all, and goes on with a new block holding what
  // followed the line. Only with no recv in flight. Returns null, changing
  // nothing, unless `padding` bytes are allocated after the line.
  MallocBytes TakeLineBlock(std::string_view line, size_t padding, size_t* offset,
                            size_t* capacity) {
    const size_t off = size_t(line.data() - data_.get());
    if (off + line.size() + padding > cap_) return nullptr;
    const size_t rest = end_ - start_;
    const size_t cap = rest + kMinFreeBytes > kInitialBytes ? rest + kMinFreeBytes : kInitialBytes;
    MallocBytes fresh = AllocateBytes(cap);
    if (rest > 0) std::memcpy(fresh.get(), data_.get() + start_, rest);
    scan_ = scan_ > start_ ? scan_ - start_ : 0;
    start_ = 0;
    end_ = rest;
    *offset = off;
    *capacity = cap_;
    cap_ = cap;
    data_.swap(fresh);
    return fresh;
  }

  // Drops everything buffered (only with no recv in flight).
  void Clear() { start_ = end_ = scan_ = 0; }

  // Makes room for the next recv; only call with no recv in flight. Returns
  // false if the buffer is at `limit` bytes of unconsumed data.
  bool Prepare(size_t limit) {
    if (!data_) {
      data_ = AllocateBytes(kInitialBytes);
      cap_ = kInitialBytes;
    }
    if (start_ == end_) {
      start_ = end_ = scan_ = 0;
      if (cap_ > 4 * kInitialBytes) {  // give back memory after a huge line
        data_ = AllocateBytes(kInitialBytes);
        cap_ = kInitialBytes;
      }
    }
    if (cap_ - end_ >= kMinFreeBytes) return true;
    if (start_ > 0) {
      std::memmove(data_.get(), data_.get() + start_, end_ - start_);
      end_ -= start_;
      scan_ = scan_ > start_ ? scan_ - start_ : 0;
      start_ = 0;
      if (cap_ - end_ >= kMinFreeBytes) return true;
    }
    if (size() >= limit) return false;
    size_t want = cap_ * 2;
    if (want > limit + kMinFreeBytes) want = limit + kMinFreeBytes;
    char* bigger = static_cast<char*>(std::realloc(data_.get(), want));
    if (!bigger) throw std::bad_alloc();
    (void)data_.release();
    data_.reset(bigger);
    cap_ = want;
    return true;
  }

 private:
  MallocBytes data_;
  size_t cap_ = 0;
  size_t start_ = 0;
  size_t end_ = 0;
  size_t scan_ = 0;
};

}  // namespace werk::net
