#pragma once
// Every live job of a state machine, found by jid: a set of pointers hashed
// by the job's own jid (8 bytes a slot; lookups take a string_view).

#include <compare>
#include <cstdint>
#include <string_view>

#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_set.h>

#include "core/job.h"
#include "core/string_hash.h"

namespace werk::core {

struct JobByJidHash {
  using is_transparent = void;
  size_t operator()(std::string_view jid) const { return StringHash{}(jid); }
  size_t operator()(const Job* j) const { return StringHash{}(j->jid()); }
};

struct JobByJidEq {
  using is_transparent = void;
  static std::string_view Key(std::string_view s) { return s; }
  static std::string_view Key(const Job* j) { return j->jid(); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const { return Key(a) == Key(b); }
};

using JobIndex = absl::flat_hash_set<Job*, JobByJidHash, JobByJidEq>;

// A place in one of those sets, by value (a cursor that survives changes).
struct SetPosition {
  UnixNanos key = 0;
  uint64_t seq = 0;
  static SetPosition Of(const Job* j) { return {j->set_key, j->seq()}; }
  auto operator<=>(const SetPosition&) const = default;
};

// The scheduled, retry and dead sets: ordered by time, then by arrival.
struct SetOrder {
  using is_transparent = void;
  static SetPosition Pos(const Job* j) { return SetPosition::Of(j); }
  static SetPosition Pos(const SetPosition& p) { return p; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const { return Pos(a) < Pos(b); }
};
using JobSet = absl::btree_set<Job*, SetOrder>;

}  // namespace werk::core
