// Long operations in slices (core/job_service.h): a MUTATE over a large set
// and a big PUSHB run as rounds of bounded work on every shard involved, so
// no command stalls a shard. What each slice does is logged as records of
// its own before the next slice; the result comes once the last slice of
// every shard is durable. (FLUSH and QUEUE REMOVE need no slices: they apply
// in O(1) and leave the freeing to the graveyard, core/graveyard.h.)

#include <algorithm>

#include "core/check.h"
#include "core/job_service.h"
#include "core/limits.h"
#include "core/mutate_slicer.h"

namespace werk::core {

struct JobService::SlicedOp {
  SliceFn slice;
  std::vector<uint32_t> pending;  // shards with more to do
  bool paced = false;
  Promise<OpStatus> done;  // once a round ended later than Sliced()'s call
};

std::vector<uint32_t> JobService::AllShards() const {
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < peers_.size(); ++i) all.push_back(i);
  return all;
}

Pending<OpStatus> JobService::Sliced(std::vector<uint32_t> shards, SliceFn slice, bool paced) {
  auto op = std::make_shared<SlicedOp>();
  op->slice = std::move(slice);
  op->pending = std::move(shards);
  op->paced = paced;
  if (op->pending.empty()) return OkStatus();
  Pending<OpStatus> later = op->done.pending();
  if (std::optional<OpStatus> now = SliceRound(op)) return *now;
  return later;
}

std::optional<OpStatus> JobService::SliceRound(std::shared_ptr<SlicedOp> op) {
  // The next round, on a later iteration; its end completes the operation.
  auto next = [this, op](Lsn after) {
    runtime_->Defer(
        [this, op] {
          if (std::optional<OpStatus> end = SliceRound(op)) op->done.Set(*end);
        },
        after);
  };
  // Only this shard left: run here, without a round trip.
  if (op->pending.size() == 1 && op->pending[0] == id()) {
    const OpResult<Progress> r = op->slice(*partition_, id());
    if (!r.ok()) return r.status();
    if (*r == Progress::kDone) return OkStatus();
    // Paced: the next slice once this one's records are durable.
    next(op->paced ? runtime_->journal().appended_lsn() : Lsn(0));
    return std::nullopt;
  }
  using Part = OpResult<Progress>;
  // Unpaced, a slice with more to do comes back without waiting for its
  // records: the last slice's answer is held, and covers every record
  // before it in the same log.
  std::function<bool(const Part&)> hold;
  if (!op->paced) hold = [](const Part& r) { return !(r.ok() && *r == Progress::kMore); };
  Pending<OpResult<std::vector<Part>>> round = OnShards<Part>(op->pending, op->slice, hold);
  auto after = [op, next](OpResult<std::vector<Part>> results) -> std::optional<OpStatus> {
    if (!results.ok()) return results.status();
    std::vector<uint32_t> more;
    for (size_t i = 0; i < results->size(); ++i) {
      const Part& part = (*results)[i];
      if (!part.ok()) return part.status();
      if (*part == Progress::kMore) more.push_back(op->pending[i]);
    }
    if (more.empty()) return OkStatus();
    op->pending = std::move(more);
    next(Lsn(0));
    return std::nullopt;
  };
  if (round.ready()) return after(std::move(round.value()));
  round.Then([op, after](OpResult<std::vector<Part>> results) {
    if (std::optional<OpStatus> end = after(std::move(results))) op->done.Set(*end);
  });
  return std::nullopt;
}

Pending<OpResult<JobService::Refusals>> JobService::PushBatch(
    std::vector<std::vector<JobSpec>> decoded, UnixNanos now) {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return OpResult<Refusals>(s);
  // Each owner touches only its own elements of `jobs`.
  struct Part {
    std::vector<std::pair<uint32_t, uint32_t>> jobs;  // (chunk, index) in the batch
    size_t next = 0;
    Refusals refused;
  };
  auto jobs = std::make_shared<std::vector<std::vector<JobSpec>>>(std::move(decoded));
  auto parts = std::make_shared<std::vector<Part>>(peers_.size());
  for (uint32_t k = 0; k < jobs->size(); ++k)
    for (uint32_t i = 0; i < (*jobs)[k].size(); ++i)
      (*parts)[OwnerOf((*jobs)[k][i].jid)].jobs.emplace_back(k, i);
  std::vector<uint32_t> owners;
  for (uint32_t s = 0; s < parts->size(); ++s)
    if (!(*parts)[s].jobs.empty()) owners.push_back(s);
  Pending<OpStatus> stored = Sliced(
      std::move(owners),
      [jobs, parts, now](Partition& partition, uint32_t shard) -> OpResult<Progress> {
        Part& p = (*parts)[shard];
        const size_t end = std::min(p.jobs.size(), p.next + kPushBulkSliceJobs);
        for (; p.next < end; ++p.next) {
          const auto [chunk, index] = p.jobs[p.next];
          JobSpec job = std::move((*jobs)[chunk][index]);
          if (OpStatus valid = ValidateJob(job, now, partition.options().limits); !valid.ok()) {
            p.refused.emplace_back(std::move(job.jid), std::string(valid.message()));
            continue;
          }
          std::string jid = job.jid;
          const OpStatus status = partition.Push(std::move(job));
          if (!status.ok()) p.refused.emplace_back(std::move(jid), std::string(status.message()));
        }
        return p.next < p.jobs.size() ? Progress::kMore : Progress::kDone;
      },
      /*paced=*/false);
  return Map<OpResult<Refusals>>(std::move(stored), [parts](OpStatus s) -> OpResult<Refusals> {
    if (!s.ok()) return s;
    Refusals all;
    for (Part& p : *parts)
      for (auto& r : p.refused) all.push_back(std::move(r));
    return all;
  });
}

Pending<OpStatus> JobService::Mutate(MutateSetRecord rec) {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return s;
  // One slicer per shard, made and used on that shard's thread only.
  auto slicers = std::make_shared<std::vector<std::unique_ptr<MutateSlicer>>>(peers_.size());
  auto op = std::make_shared<const MutateSetRecord>(std::move(rec));
  return Sliced(
      AllShards(),
      [slicers, op](Partition& partition, uint32_t shard) {
        auto& slicer = (*slicers)[shard];
        if (!slicer) slicer = std::make_unique<MutateSlicer>(*op);
        return partition.MutateSlice(*slicer);
      },
      /*paced=*/true);
}

}  // namespace werk::core
