#pragma once
// The commands whose reply latency a shard measures, one histogram each
// (ShardSummary::command_latency_us; docs/running.md "Metrics"). The rarer
// commands share kOther.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace werk::net {

enum class CommandKind : uint8_t {
  kPush,
  kPushBulk,
  kFetch,
  kAck,
  kFail,
  kBeat,
  kInfo,
  kMutate,
  kQueue,
  kOther,  // FLUSH, PROMOTE, the refused Enterprise commands, unknown verbs
  // Not a command: a reply nothing measures (the greeting, HELLO's, a
  // line-too-long error).
  kUntimed,
};
inline constexpr size_t kCommandKinds = size_t(CommandKind::kUntimed);

// The verb as /metrics labels it ("PUSH", …, "other").
constexpr std::string_view CommandKindName(CommandKind kind) {
  constexpr std::string_view kNames[] = {"PUSH", "PUSHB",  "FETCH", "ACK",   "FAIL",
                                         "BEAT", "INFO",   "MUTATE", "QUEUE", "other"};
  return size_t(kind) < kCommandKinds ? kNames[size_t(kind)] : std::string_view();
}

}  // namespace werk::net
