#pragma once
// Pages of jobs for the operator's tools (WERK JOBS, werkctl, the Web UI):
// the retry, scheduled or dead set, or one queue, a page at a time across
// every shard.
//
// Paging is by cursor, not offset, so a page costs the page, not its
// position. The global order is by ListKey (time, shard, seq):
//   sets    the set's own time (retry at / run at / when it died), then the
//           shard, then the order the shard keeps them in (core/job_index.h
//           SetOrder: time, then arrival). That is each shard's btree
//           order, so a shard finds "after the cursor" with one lower_bound
//           even when a million jobs share one time (a MUTATE kill gives
//           every job it moves the same time); a jid tie-break would sort
//           every such group on every page.
//   queues  enqueued_at, then shard, then the queue position: FIFO per
//           shard (the order FETCH takes them in there), and across shards
//           approximately the order they were enqueued. A queue is a list,
//           not an index: a shard walks it from the front past the cursor,
//           so a deep page of a long queue costs its depth in pointer hops
//           (~30 ms per million). enqueued_at follows the list while the
//           shard's wall clock does not step back; if it does, a page can
//           repeat or miss a job next to the step.
// Each shard returns its first `limit` entries after the cursor; the
// origin merges them and cuts to `limit` (MergeListParts). A filtered page
// looks at a bounded number per shard (a glob fewer): a shard that
// stopped there says how far it got, the page ends there and its cursor
// continues from it (a page may then hold fewer than `limit` jobs, even
// none, with a cursor: call again).
//
// The cursor on the wire is "<time>.<shard>.<seq>" in decimal: opaque to
// clients, stable across pages; after a restart that re-partitions, a
// cursor still names a position in the order and paging goes on from it.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/mutation.h"
#include "core/op_status.h"
#include "core/state_machine.h"

namespace werk::core {

inline constexpr size_t kListLimitDefault = 25;
inline constexpr size_t kListLimitMax = 1000;
// Entries a filtered page looks at per shard per call (bounded work on the
// shard's thread: ~10-50 ms of glob matching).
inline constexpr size_t kListScanMax = 100'000;

enum class ListTarget : uint8_t { kRetries, kScheduled, kDead, kQueue };

struct ListKey {
  UnixNanos time = 0;
  uint32_t shard = 0;
  uint64_t seq = 0;
  auto operator<=>(const ListKey&) const = default;
};

std::string FormatCursor(const ListKey& k);
// InvalidRequest for anything but three decimal numbers joined by '.'.
OpResult<ListKey> ParseCursor(std::string_view s);

struct ListRequest {
  ListTarget target = ListTarget::kRetries;
  std::string queue;  // kQueue
  size_t limit = kListLimitDefault;
  std::optional<ListKey> after;
  std::optional<MutateFilter> filter;
  // The bound of a filtered scan per shard (smaller in tests).
  size_t scan_max = kListScanMax;
};

struct ListedJob {
  ListKey key;
  std::string json;  // as FETCH renders it, failure included
};

// One shard's answer.
struct ListPart {
  std::vector<ListedJob> rows;  // ascending, at most `limit`
  size_t total = 0;             // entries of the set/queue on this shard
  // Set when a filtered scan stopped at its bound: every entry up to here was
  // looked at.
  std::optional<ListKey> scanned_to;
};

struct JobPage {
  std::vector<ListedJob> rows;
  size_t total = 0;  // over every shard
  // Where the next page starts; none once the end is reached.
  std::optional<ListKey> next;
};

// Shard `shard`'s part of `req` from `sm`.
ListPart ListShard(const StateMachine& sm, uint32_t shard, const ListRequest& req);
JobPage MergeListParts(std::vector<ListPart> parts, size_t limit);

}  // namespace werk::core
