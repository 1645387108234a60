#pragma once
// Little helpers to write and read the binary bodies of records: LEB128
// varints (zig-zag for signed values) and length-prefixed byte strings.
// ByteReader never reads past its input; any short or malformed field makes
// ok() false and every later read returns a zero value.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace werk::core {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(char(v)); }
  void U64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(char(v | 0x80));
      v >>= 7;
    }
    out_.push_back(char(v));
  }
  void I64(int64_t v) { U64((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }
  void Bytes(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  // The bytes not read yet (empty once a read failed): for a format whose
  // last field runs to the end of its input.
  std::string_view rest() const { return ok_ ? in_.substr(pos_) : std::string_view(); }

  uint8_t U8() {
    if (!ok_ || pos_ >= in_.size()) return Fail(), 0;
    return uint8_t(in_[pos_++]);
  }
  // Only the minimal encoding is accepted, so every value has exactly one
  // byte form (decode then encode is the identity).
  uint64_t U64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= in_.size()) return Fail(), 0;
      const auto b = uint8_t(in_[pos_++]);
      if (shift == 63 && b > 1) return Fail(), 0;  // more than 64 bits
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && shift > 0) return Fail(), 0;  // padded with a zero byte
        return v;
      }
    }
    return Fail(), 0;
  }
  int64_t I64() {
    const uint64_t u = U64();
    return int64_t(u >> 1) ^ -int64_t(u & 1);
  }
  std::string_view Bytes() {
    const uint64_t n = U64();
    if (!ok_ || n > in_.size() - pos_) return Fail(), std::string_view();
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count that must be plausible given the bytes left (each element takes
  // at least one byte), so garbage cannot make the decoder reserve gigabytes.
  uint64_t Count() {
    const uint64_t n = U64();
    if (n > in_.size() - pos_) return Fail(), 0;
    return n;
  }

 private:
  void Fail() { ok_ = false; }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace werk::core
