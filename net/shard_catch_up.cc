// Catching up after a late wake-up: input that reached a socket before a
// deadline is handled before that deadline's timer fires.
//
// A shard whose loop comes back much later than it meant to (the process was
// stopped, the VM paused, the host starved the thread, or one iteration ran
// very long) has timers that fell due while it was away, and very likely
// input that arrived before them: a worker's BEAT, the ACK of a job whose
// reservation ran out meanwhile. Firing the timers first would drop a live
// worker and run an acknowledged job a second time. So, before any timer
// fires:
//
//   1. the shard reads what is waiting in its sockets: it submits the reads
//      and handles their completions, round after round, until a round reads
//      nothing (at most kDrainRoundsMax rounds);
//   2. with several shards, the commands read may have gone to other shards
//      (an ACK to the job's owner, a BEAT to the worker's), and other shards
//      may have read commands for this one. The shard asks every other shard
//      to confirm it has passed on what it read; a shard answers once none of
//      its connections holds read commands back behind a command still
//      running elsewhere (a BEAT waiting for the worker's owner with the ACK
//      behind it), and its answer travels behind the commands it forwarded
//      (the ring between two shards is FIFO), so when the last answer is in,
//      they have all run here;
//   3. then the timers fire. Waiting is bounded (kHoldMaxMillis): a shard
//      that does not answer cannot hold timers back for long.
//
// Everything read this way is handled at the time the loop woke, as if it
// had arrived then. Exact arrival times would need a kernel timestamp on
// every read (SO_TIMESTAMP through recvmsg), a cost on every command for a
// case that only changes the outcome of bytes that arrived after a deadline
// during the stall; treating those as in time favours the client, which was
// alive and whose ACK means the job was done. The same holds for the
// handshake and idle deadlines, and for a time jump of a test's clock.

#include <spdlog/spdlog.h>

#include "net/shard.h"

namespace werk::net {

namespace {
constexpr int kDrainRoundsMax = 16;
constexpr int64_t kHoldMaxMillis = 1000;
}  // namespace

void Shard::CatchUp(int64_t late_ms) {
  ++stats_.catch_ups;
  spdlog::warn("the shard's loop ran {} ms late (the process stopped or starved?): reading the "
               "input that arrived meanwhile before firing timers",
               late_ms);
  for (int round = 0; round < kDrainRoundsMax; ++round) {
    const uint64_t before = stats_.reads_with_data;
    reactor().PollNow();
    if (stats_.reads_with_data == before) break;
  }
  // A hold already running keeps its deadline and its round: a loop late
  // on every iteration (one very long command after another) must not push
  // the timers back forever, nor discard the answers already on their way.
  if (catch_up_until_ms_ != 0) return;
  catch_up_until_ms_ = mono_ms() + kHoldMaxMillis;
  catch_up_answers_pending_ = shard_count() > 1 ? shard_count() - 1 : 0;
  ++catch_up_round_;
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (s == id_) continue;
    Notify(s, [from = id_, round = catch_up_round_](Shard& peer) {
      peer.OnCatchUpQuery(from, round);
    });
  }
}

bool Shard::InputSettled() const {
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing() || c->in_.size() == 0) continue;
    // Held behind a command running elsewhere (a FETCH asking other shards).
    const bool fetch_elsewhere =
        service_.fetcher().fetching(c) && !service_.fetcher().parked(c);
    if (c->awaiting_remote_ || fetch_elsewhere || c->staged_.holes() >= kForwardsInFlightMax)
      return false;
  }
  return true;
}

bool Shard::TimersHeld() {
  if (catch_up_until_ms_ == 0) return false;
  if (mono_ms() < catch_up_until_ms_ && (catch_up_answers_pending_ > 0 || !InputSettled()))
    return true;
  if (catch_up_answers_pending_ > 0)
    spdlog::warn("catching up: {} shard(s) did not answer within {} ms; firing timers",
                 catch_up_answers_pending_, kHoldMaxMillis);
  catch_up_until_ms_ = 0;
  return false;
}

void Shard::OnCatchUpQuery(uint32_t from, uint64_t round) {
  catch_up_askers_.push_back({from, round, mono_ms()});
}

void Shard::AnswerCatchUpQueries() {
  if (catch_up_askers_.empty()) return;
  if (!InputSettled() && mono_ms() < catch_up_askers_.front().asked_ms + kHoldMaxMillis) return;
  for (const CatchUpAsker& a : catch_up_askers_) {
    Notify(a.shard, [round = a.round](Shard& peer) { peer.OnCatchUpAnswer(round); });
  }
  catch_up_askers_.clear();
}

void Shard::OnCatchUpAnswer(uint64_t round) {
  if (round == catch_up_round_ && catch_up_answers_pending_ > 0) --catch_up_answers_pending_;
}

}  // namespace werk::net
