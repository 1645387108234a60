#pragma once
// A connection's receive buffer. The kernel writes at end() while a recv is in
// flight, so memory only moves (compaction, growth) when no recv is pending;
// consuming lines just advances start.

#include <cstring>
#include <memory>
#include <string_view>

namespace werk::net {

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

  // Drops everything buffered (only with no recv in flight).
  void Clear() { start_ = end_ = scan_ = 0; }

  // Makes room for the next recv; only call with no recv in flight. Returns
  // false if the buffer is at `limit` bytes of unconsumed data.
  bool Prepare(size_t limit) {
    if (!data_) {
      data_.reset(new char[kInitialBytes]);
      cap_ = kInitialBytes;
    }
    if (start_ == end_) {
      start_ = end_ = scan_ = 0;
      if (cap_ > 4 * kInitialBytes) {  // give back memory after a huge line
        data_.reset(new char[kInitialBytes]);
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
    std::unique_ptr<char[]> bigger(new char[want]);
    std::memcpy(bigger.get(), data_.get(), end_);
    data_ = std::move(bigger);
    cap_ = want;
    return true;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t start_ = 0;
  size_t end_ = 0;
  size_t scan_ = 0;
};

}  // namespace werk::net
