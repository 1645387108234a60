// Redis-style glob matching (the MATCH of SCAN/ZSCAN that Faktory's MUTATE
// filter hands its `regexp` to). Iterative with single-star backtracking, so a
// hostile pattern costs O(pattern × text), never exponential time.

#include <string_view>
#include <utility>

namespace werk::core {
namespace {

// Matches one `[...]` class at pattern[pi] (pi points just after '[').
// Returns the index after the class, and sets *matched.
size_t MatchClass(std::string_view p, size_t pi, char c, bool* matched) {
  bool negate = false;
  if (pi < p.size() && p[pi] == '^') {
    negate = true;
    ++pi;
  }
  bool found = false;
  while (pi < p.size() && p[pi] != ']') {
    if (p[pi] == '\\' && pi + 1 < p.size()) {
      ++pi;
      if (p[pi] == c) found = true;
      ++pi;
    } else if (pi + 2 < p.size() && p[pi + 1] == '-' && p[pi + 2] != ']') {
      char lo = p[pi], hi = p[pi + 2];
      if (lo > hi) std::swap(lo, hi);
      if (c >= lo && c <= hi) found = true;
      pi += 3;
    } else {
      if (p[pi] == c) found = true;
      ++pi;
    }
  }
  if (pi < p.size()) ++pi;  // the closing ']' (an unterminated class ends the pattern)
  *matched = negate ? !found : found;
  return pi;
}

}  // namespace

bool GlobMatch(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      const char pc = p[pi];
      if (pc == '*') {
        while (pi < p.size() && p[pi] == '*') ++pi;
        if (pi == p.size()) return true;
        star_p = pi;
        star_s = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        ++si;
        continue;
      }
      if (pc == '[') {
        bool matched;
        const size_t next = MatchClass(p, pi + 1, s[si], &matched);
        if (matched) {
          pi = next;
          ++si;
          continue;
        }
      } else {
        size_t lit = pi;
        if (pc == '\\' && pi + 1 < p.size()) lit = pi + 1;
        if (p[lit] == s[si]) {
          pi = lit + 1;
          ++si;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace werk::core
