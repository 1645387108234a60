// The arguments of the WERK extension (net/shard_werk.cc): arbitrary bytes
// through the WERK JOBS and WERK WORKER decoders and the cursor parser, and
// every request that decodes run as a page of a small state machine's sets
// and queue (core/job_listing.h), so a hostile cursor or filter can only be
// refused or answered.

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/job_listing.h"
#include "core/state_machine.h"
#include "net/command_decoders.h"
#include "net/job_decoder.h"

using namespace werk;

namespace {

const core::StateMachine& Jobs() {
  static core::StateMachine* sm = [] {
    auto* m = new core::StateMachine(0);
    for (int i = 0; i < 20; ++i) {
      core::JobSpec s;
      s.jid = "fuzzjob-" + std::to_string(1000 + i);
      s.jobtype = i % 2 ? "A" : "B";
      s.queue = "q";
      s.args_json = "[1]";
      if (i % 3 == 0) {
        s.at = "2099-01-01T00:00:00Z";
        s.at_ns = 4'070'908'800LL * core::kNanosPerSecond + i % 2;
      }
      (void)m->Apply(core::Mutation::Push(i, s));
    }
    return m;
  }();
  return *sm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static net::JobDecoder decoder;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)core::ParseCursor(input);
  net::WerkWorkerArgs w;
  (void)net::DecodeWerkWorker(decoder, input, &w);
  net::WerkJobsArgs args;
  if (!net::DecodeWerkJobs(decoder, input, &args).ok()) return 0;
  core::ListRequest req;
  req.target = args.target == "queue"       ? core::ListTarget::kQueue
               : args.target == "scheduled" ? core::ListTarget::kScheduled
               : args.target == "dead"      ? core::ListTarget::kDead
                                            : core::ListTarget::kRetries;
  req.queue = args.queue;
  req.limit = size_t(std::clamp<int64_t>(args.limit, 1, 1000));
  req.filter = args.filter;
  if (req.filter && req.filter->regexp.size() > core::kMutateGlobBytesMax) return 0;
  req.scan_max = 7;
  if (!args.cursor.empty()) {
    auto after = core::ParseCursor(args.cursor);
    if (!after.ok()) return 0;
    req.after = *after;
  }
  std::vector<core::ListPart> parts;
  for (uint32_t shard = 0; shard < 3; ++shard) parts.push_back(core::ListShard(Jobs(), shard, req));
  core::JobPage page = core::MergeListParts(std::move(parts), req.limit);
  if (page.rows.size() > req.limit) __builtin_trap();
  return 0;
}
