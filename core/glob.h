#pragma once
// Redis-style glob matching (`*`, `?`, `[...]` with ranges and `^`, `\`
// escapes): the MATCH of SCAN/ZSCAN, which Faktory's MUTATE filter hands its
// `regexp` to.
//
// A pattern is compiled once into a bit-parallel automaton (one bit per
// pattern position, Glushkov/shift-and style), so matching costs
// O(text × ⌈pattern/64⌉) for any pattern: no backtracking, no worst case
// beyond that. A MUTATE runs one pattern over every job of a set, so the
// pattern's length is also bounded (kMutateGlobBytesMax, core/limits.h).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace werk::core {

class Glob {
 public:
  explicit Glob(std::string_view pattern);

  bool Match(std::string_view text) const;

 private:
  size_t words_ = 1;  // 64-bit words per state set: ⌈(positions + 1) / 64⌉
  size_t accept_ = 0;  // the state reached when every position matched
  // For each byte value, the positions that accept it (bit i: position i).
  std::vector<uint64_t> accepts_;  // 256 × words_
  std::vector<uint64_t> stars_;    // positions that are a `*`
  mutable std::vector<uint64_t> scratch_;
};

// One-off match (compiles the pattern each call).
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace werk::core
