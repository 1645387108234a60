// Long commands in slices: a MUTATE over a large set and a big PUSHB run as
// rounds of bounded work on every shard involved, each round on a fresh loop
// iteration, so a shard serves its other clients between them (issue: no
// command stalls the server). What each slice does is logged as records of
// its own before the next slice, and the reply leaves once the last slice of
// every shard is durable (a shard's log is in order: its last slice's
// durability covers the slices before it). A paced operation (MUTATE) also
// waits for each round's records to be durable before the next round, so it
// runs at the log's pace and leaves the shards idle gaps for other clients;
// an unpaced one (PUSHB, usually one or two rounds) does not wait in between.
// (FLUSH and QUEUE REMOVE need no slices: they apply in O(1) and leave the
// freeing to the graveyard, core/graveyard.h.)

#include <memory>

#include "core/check.h"
#include "core/limits.h"
#include "core/mutate_slicer.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

struct Shard::SlicedOp {
  SliceFn slice;
  std::function<std::string()> finish;
  std::vector<uint32_t> pending;  // shards with more to do
  bool paced = false;
};

void Shard::Defer(Connection* c, std::function<void()> fn, uint64_t after_lsn) {
  // The connection reads nothing further meanwhile, and outlives the wait.
  ++c->inflight_;
  c->awaiting_remote_ = true;
  runtime_.Defer(
      [this, c, fn = std::move(fn)] {
        --c->inflight_;
        c->awaiting_remote_ = false;
        if (c->closing()) {
          // Its client is gone: the rest of the operation is dropped (what
          // the slices so far did stays; it was never acknowledged).
          return MaybeFinishClose(c);
        }
        fn();
        if (!c->awaiting_remote_) ProcessInput(c);
      },
      core::Lsn(after_lsn));
}

void Shard::RunSliced(Connection* c, std::vector<uint32_t> shards, SliceFn slice,
                      std::function<std::string()> finish, bool paced) {
  auto op = std::make_shared<SlicedOp>();
  op->slice = std::move(slice);
  op->finish = std::move(finish);
  op->pending = std::move(shards);
  op->paced = paced;
  if (op->pending.empty()) return Reply(c, op->finish());
  SliceRound(c, std::move(op));
}

void Shard::SliceRound(Connection* c, std::shared_ptr<SlicedOp> op) {
  // Only this shard left (or alone): run here, without a fan-out, which
  // would complete at once and resume the connection's input from inside
  // the command that is running (a recursion a pipeline could deepen).
  if (peers_.size() <= 1 || (op->pending.size() == 1 && op->pending[0] == id_)) {
    const core::OpResult<core::Progress> r = op->slice(*this);
    if (!r.ok()) return ReplyStatus(c, r.status());
    if (*r == core::Progress::kMore) {
      // Paced: the next slice once this one's records are durable.
      const uint64_t after = op->paced ? journal_->appended_lsn().value() : 0;
      return Defer(c, [this, c, op] { SliceRound(c, op); }, after);
    }
    return Reply(c, op->finish());
  }
  using Part = core::OpResult<core::Progress>;
  std::vector<std::pair<uint32_t, PartFn<Part>>> calls;
  for (uint32_t s : op->pending) calls.emplace_back(s, [op](Shard& sh) { return op->slice(sh); });
  // Unpaced, a slice with more to do comes back without waiting for its
  // records: the last slice's answer is held, and covers every record
  // before it in the same log.
  HoldFn<Part> hold;
  if (!op->paced)
    hold = [](const Part& r) { return !(r.ok() && *r == core::Progress::kMore); };
  StartFanOut<Part>(
      c, std::move(calls),
      [this, c, op](std::vector<Part>& results) -> std::optional<std::string> {
        std::vector<uint32_t> more;
        for (size_t i = 0; i < results.size(); ++i) {
          if (!results[i].ok()) return StatusReply(results[i].status());
          if (*results[i] == core::Progress::kMore) more.push_back(op->pending[i]);
        }
        if (more.empty()) return op->finish();
        op->pending = std::move(more);
        Defer(c, [this, c, op] { SliceRound(c, op); });
        return std::nullopt;
      },
      std::move(hold));
}

std::vector<uint32_t> Shard::AllShards() const {
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < std::max<size_t>(1, peers_.size()); ++i) all.push_back(i);
  return all;
}

// --- MUTATE ----------------------------------------------------------------------------------

void Shard::RunMutate(Connection* c, core::MutateSetRecord rec) {
  // One slicer per shard, made and used on that shard's thread only.
  auto slicers = std::make_shared<std::vector<std::unique_ptr<core::MutateSlicer>>>(
      std::max<size_t>(1, peers_.size()));
  auto op = std::make_shared<const core::MutateSetRecord>(std::move(rec));
  RunSliced(
      c, AllShards(),
      [slicers, op](Shard& s) {
        auto& slicer = (*slicers)[s.id()];
        if (!slicer) slicer = std::make_unique<core::MutateSlicer>(*op);
        return s.partition_.MutateSlice(*slicer);
      },
      [] { return std::string(kOkReply); }, /*paced=*/true);
}

}  // namespace werk::net
