#include "core/glob.h"

#include <algorithm>
#include <bitset>
#include <utility>

namespace werk::core {
namespace {

using ByteSet = std::bitset<256>;

// One `[...]` class starting just after the '['; returns the index after it.
// Rules as Redis's stringmatchlen: `^` negates, `\x` is x, `a-z` is a range
// (either order), and an unterminated class ends at the pattern's end.
size_t ParseClass(std::string_view p, size_t pi, ByteSet* set) {
  bool negate = false;
  if (pi < p.size() && p[pi] == '^') {
    negate = true;
    ++pi;
  }
  ByteSet found;
  while (pi < p.size() && p[pi] != ']') {
    if (p[pi] == '\\' && pi + 1 < p.size()) {
      found.set(uint8_t(p[pi + 1]));
      pi += 2;
    } else if (pi + 2 < p.size() && p[pi + 1] == '-' && p[pi + 2] != ']') {
      uint8_t lo = uint8_t(p[pi]), hi = uint8_t(p[pi + 2]);
      if (lo > hi) std::swap(lo, hi);
      for (unsigned c = lo; c <= hi; ++c) found.set(c);
      pi += 3;
    } else {
      found.set(uint8_t(p[pi]));
      ++pi;
    }
  }
  if (pi < p.size()) ++pi;  // the closing ']'
  *set = negate ? ~found : found;
  return pi;
}

struct Position {
  bool star = false;
  ByteSet accepts;
};

std::vector<Position> Parse(std::string_view p) {
  std::vector<Position> out;
  for (size_t pi = 0; pi < p.size();) {
    Position pos;
    const char c = p[pi];
    if (c == '*') {
      ++pi;
      if (!out.empty() && out.back().star) continue;  // `**` is `*`
      pos.star = true;
    } else if (c == '?') {
      pos.accepts.set();
      ++pi;
    } else if (c == '[') {
      pi = ParseClass(p, pi + 1, &pos.accepts);
    } else if (c == '\\' && pi + 1 < p.size()) {
      pos.accepts.set(uint8_t(p[pi + 1]));
      pi += 2;
    } else {
      pos.accepts.set(uint8_t(c));
      ++pi;
    }
    out.push_back(pos);
  }
  return out;
}

}  // namespace

// State i means "the first i positions matched". A position that consumes a
// byte moves state i to i+1 when it accepts the byte; a `*` at position i
// keeps state i on any byte and also stands in state i+1 at once (it may
// match nothing). Stepping every state at once is a shift of the state set.
Glob::Glob(std::string_view pattern) {
  const std::vector<Position> positions = Parse(pattern);
  accept_ = positions.size();
  words_ = accept_ / 64 + 1;
  accepts_.assign(256 * words_, 0);
  stars_.assign(words_, 0);
  for (size_t i = 0; i < positions.size(); ++i) {
    const uint64_t bit = uint64_t(1) << (i % 64);
    if (positions[i].star) {
      stars_[i / 64] |= bit;
      continue;
    }
    for (unsigned c = 0; c < 256; ++c)
      if (positions[i].accepts.test(c)) accepts_[c * words_ + i / 64] |= bit;
  }
  scratch_.resize(words_);
}

bool Glob::Match(std::string_view text) const {
  std::vector<uint64_t>& d = scratch_;
  std::fill(d.begin(), d.end(), 0);
  d[0] = 1;
  // Closure over stars: a state at a `*` also stands after it. Consecutive
  // stars are merged at parse time, so one pass reaches every state.
  auto close = [&] {
    uint64_t carry = 0;
    for (size_t w = 0; w < words_; ++w) {
      const uint64_t s = d[w] & stars_[w];
      const uint64_t next = (s << 1) | carry;
      carry = s >> 63;
      d[w] |= next;
    }
  };
  close();
  for (const char ch : text) {
    const uint64_t* accepts = &accepts_[size_t(uint8_t(ch)) * words_];
    uint64_t carry = 0, any = 0;
    for (size_t w = 0; w < words_; ++w) {
      const uint64_t moved = d[w] & accepts[w];
      const uint64_t next = (moved << 1) | carry | (d[w] & stars_[w]);
      carry = moved >> 63;
      d[w] = next;
      any |= next;
    }
    if (any == 0) return false;
    close();
  }
  return (d[accept_ / 64] >> (accept_ % 64)) & 1;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return Glob(pattern).Match(text);
}

}  // namespace werk::core
