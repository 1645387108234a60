#pragma once
// What a job operation returns (push, ack, fail, reserve, a slice of a long
// operation, a worker's beat, a global operation): absl::Status and
// absl::StatusOr<T>, werk's one error convention, under the names of
// Dragonfly's facade/op_status.h. An operation runs on the shard that owns
// its job and its result crosses shards as this typed value; only the
// protocol layer turns it into reply bytes (net/resp.h: AppendStatus).
//
// The errors a client can see are made by the functions below, so their
// codes and messages are defined once. A message is what a Faktory client
// reads after "-ERR " (faktory-reference.md §2.14).

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace werk::core {

using OpStatus = absl::Status;
template <class T>
using OpResult = absl::StatusOr<T>;

inline OpStatus OkStatus() { return absl::OkStatus(); }

// A write after the shard's log failed: the shard stops; nothing more is
// acknowledged (kUnavailable).
inline constexpr std::string_view kLogFailedMessage =
    "werk cannot accept writes: its write-ahead log failed (see the server log)";
OpStatus LogFailed();
// FAIL of a job that is not reserved (kNotFound): "Job not found <jid>".
OpStatus JobNotFound(std::string_view jid);
// PUSH of a jid a live job has (kAlreadyExists).
OpStatus JidInUse(std::string_view jid);
// Cron: the tick of this jid, or a later one of its entry, fired already.
OpStatus CronTickFired(std::string_view jid);
// Cron: a job a client pushed holds the jid of a tick that has not fired.
OpStatus CronJidTaken(std::string_view jid);
// BEAT of a process the server does not know (kNotFound): "unknown worker <wid>".
OpStatus UnknownWorker(std::string_view wid);
// A write sent to a standby (kFailedPrecondition): writes go to the primary.
inline constexpr std::string_view kStandbyMessage =
    "werk is a standby: it takes no writes; send them to the primary";
// `primary`: the primary's replication address, if known.
OpStatus NotPrimary(std::string_view primary = {});
// A write on a primary whose standby has not acknowledged for the standby
// timeout, in required mode (kUnavailable): nothing is acknowledged until the
// standby is back. `why` says what the standby did (docs/replication.md).
inline constexpr std::string_view kNoStandbyMessage =
    "werk cannot acknowledge writes: its standby is gone and the standby policy is required";
OpStatus NoStandby(std::string_view why);
// A write on a primary that learned of a newer epoch (kFailedPrecondition):
// another server was promoted and is the primary now; nothing this one
// writes is acknowledged any more (docs/replication.md "Fencing").
// `primary`: the new primary's replication address, if known.
inline constexpr std::string_view kDeposedMessage = "werk is deposed by epoch ";
OpStatus Deposed(uint64_t epoch, std::string_view primary);
// A request that can never succeed as given (kInvalidArgument).
OpStatus InvalidRequest(std::string_view message);

// How far a long operation run in slices got on one shard.
enum class Progress : uint8_t { kMore, kDone };

// What stands in for the result of a call whose shard's log failed before
// the call's records were durable (core/shard_call.h): a status says so; a
// plain value is a neutral default (the caller reports the failure).
template <class T>
T AbandonedResult() {
  if constexpr (std::is_same_v<T, OpStatus>) {
    return LogFailed();
  } else if constexpr (requires(T t) { t.status(); t.ok(); }) {
    return T(LogFailed());
  } else {
    return T{};
  }
}

}  // namespace werk::core
