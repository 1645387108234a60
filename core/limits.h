#pragma once
// Every limit in one place, units last (style P13). Values that operators may
// change are defaults for ServerOptions; the *Max values are hard ceilings.

#include <cstddef>
#include <cstdint>

namespace werk::core {

// --- Protocol (Faktory semantics) -------------------------------------------
constexpr int64_t kReserveForSecondsDefault = 1800;  // absent/0 reserve_for
constexpr int64_t kReserveForSecondsMin = 60;        // raised to this at FETCH
constexpr int64_t kReserveForSecondsMax = 86400;     // rejected above at PUSH
constexpr int64_t kRetryDefault = 25;
constexpr int64_t kDeadTtlSeconds = 180LL * 24 * 3600;
constexpr int64_t kHeartbeatTimeoutSeconds = 60;   // default of --heartbeat-timeout
constexpr int64_t kFetchBlockMillis = 2000;
constexpr int64_t kHandshakeTimeoutSeconds = 2;    // default of --handshake-timeout
constexpr size_t kJidBytesMin = 8;
constexpr size_t kFailErrtypeBytesMax = 100;
constexpr size_t kFailMessageBytesMax = 1000;
constexpr size_t kFailBacktraceLinesMax = 50;
constexpr int kHistoryDaysMax = 180;
// MUTATE's `regexp` (a glob over each job's JSON): matching costs the job's
// length × ⌈pattern / 64⌉ word operations (core/glob.h), so the pattern is
// bounded; real filters are a few dozen bytes.
constexpr size_t kMutateGlobBytesMax = 1024;

// --- Server limits (defaults, configurable) ----------------------------------
constexpr size_t kConnectionsDefault = 2000;          // Faktory's pool size
// Sockets that have not completed the handshake (authenticated, with a
// password), server-wide: by default a quarter of the connection limit, and
// never fewer than this.
constexpr size_t kHandshakeConnectionsMin = 256;
// A connection without a worker id that sends no command for this long is
// closed (0 disables it).
constexpr int64_t kIdleTimeoutSecondsDefault = 300;
// TCP keepalive on every client socket: the first probe after 60 s without
// traffic, then every 15 s; 4 unanswered probes (2 minutes in all) reset the
// connection, so a peer that vanished without a FIN frees its slot.
constexpr int kKeepAliveIdleSeconds = 60;
constexpr int kKeepAliveIntervalSeconds = 15;
constexpr int kKeepAliveProbes = 4;
// Faktory has no size limits; these defaults accept what it is used for in
// practice (a job with a few megabytes of arguments, a PUSHB of 1,000 jobs)
// while bounding what one line can make the server hold.
constexpr size_t kLineBytesDefault = 16u << 20;       // one command line
constexpr size_t kJobBytesDefault = 16u << 20;        // one job's JSON
constexpr size_t kQueueNameBytesMax = 256;
constexpr size_t kJidBytesMax = 256;
constexpr size_t kWidBytesMax = 256;
// Shards in one server (cross-shard bit masks are 64 bits wide).
constexpr uint32_t kShardsMax = 64;

// --- Hard ceilings ------------------------------------------------------------
constexpr size_t kLineBytesMax = 256u << 20;
constexpr size_t kOutputBytesHighWater = 4u << 20;    // stop reading above this
// Input a connection reads ahead while it cannot run its next command (a
// blocked FETCH, replies owed by other shards, output above the high water):
// past this it reads nothing more and TCP flow control holds the client.
constexpr size_t kInputBytesWhileBlockedMax = 64u << 10;
constexpr size_t kRecvChunkBytes = 64u << 10;
constexpr size_t kTimerFiresPerAdvanceMax = 4096;     // keep the loop responsive
// What a FLUSH or QUEUE REMOVE left to free (core/graveyard.h) is freed
// for about this long per loop iteration, in slices of this many jobs; the
// loop sleeps at most as long between slices.
constexpr int64_t kReclaimNanosPerIteration = 250'000;
constexpr size_t kReclaimJobsPerSlice = 128;
// A long command (MUTATE over a large set, a big PUSHB) works for about this
// long per loop iteration on each shard (net/shard_slices.cc): a MUTATE
// scans in chunks of kMutateScanChunk jobs and names at most
// kMutateSliceJobsMax in one record; a PUSHB stores kPushBulkSliceJobs.
constexpr int64_t kSliceNanos = 500'000;
constexpr size_t kMutateScanChunk = 256;
constexpr size_t kMutateSliceJobsMax = 2048;
constexpr size_t kPushBulkSliceJobs = 512;
// A PUSHB line longer than this is decoded a slice at a time as well.
constexpr size_t kPushBulkDecodeAtOnceBytes = 256u << 10;
constexpr size_t kFetchQueuesMax = 256;
constexpr int kJsonDepthMax = 256;                    // nesting of any JSON argument

static_assert(kReserveForSecondsMin < kReserveForSecondsDefault);
static_assert(kReserveForSecondsDefault < kReserveForSecondsMax);
static_assert(kJobBytesDefault <= kLineBytesDefault);
static_assert(kLineBytesDefault <= kLineBytesMax);

}  // namespace werk::core
