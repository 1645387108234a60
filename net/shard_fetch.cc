// FETCH at the protocol edge: the queue names parsed as Faktory splits
// them, a quiet worker's FETCH, and the answer rendered. The fetch itself —
// strict priority across shards, the blocking wait, the wake-ups — is
// core::Fetcher's (core/fetcher.h).

#include <algorithm>

#include "core/limits.h"
#include "net/resp.h"
#include "net/shard.h"

namespace werk::net {

void Connection::OnFetched(core::FetchResult result) { shard_->OnFetched(this, std::move(result)); }

bool Shard::FetcherIsQuiet(const Connection* c) const {
  return c->worker_ && WorkerStateOf(c) != core::WorkerState::kRunning;
}

void Shard::CmdFetch(Connection* c, std::string_view rest) {
  // `rest` is everything after the verb: " q1 q2". Faktory splits on single
  // spaces, so doubled spaces make empty (never matching) queue names.
  const int64_t deadline_ms = mono_ms() + core::kFetchBlockMillis;
  std::vector<std::string> queues;
  if (FetcherIsQuiet(c)) {
    // A quiet or terminating worker gets nothing, after the usual wait.
  } else {
    if (!rest.empty()) {
      size_t pos = 1;  // skip the separator after FETCH
      while (true) {
        const size_t sp = rest.find(' ', pos);
        queues.emplace_back(rest.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
        if (sp == std::string_view::npos) break;
        pos = sp + 1;
      }
    }
    // Faktory refuses a FETCH without names at once. Names that are all
    // empty ("FETCH  ", which Faktory takes as queue "" and waits on) are
    // refused too: PUSH never fills a queue without a name, so that FETCH
    // could only wait and get nothing.
    if (std::all_of(queues.begin(), queues.end(), [](const std::string& q) { return q.empty(); }))
      return ReplyError(c, "must call fetch with at least one queue");
    if (queues.size() > core::kFetchQueuesMax)
      return ReplyError(c, "FETCH takes at most " + std::to_string(core::kFetchQueuesMax) +
                               " queues");
  }
  c->fetch_starting_ = true;
  service_.fetcher().Start(c, std::move(queues), c->wid_, deadline_ms);
  c->fetch_starting_ = false;
}

void Shard::OnFetched(Connection* c, core::FetchResult result) {
  if (!result.ok()) {
    ReplyStatus(c, result.status());  // a standby, or the log failed
  } else if (*result) {
    ReplyBulk(c, **result);
  } else {
    ReplyNull(c);
  }
  // An answer that came later: the commands pipelined behind the FETCH.
  if (!c->fetch_starting_) ProcessInput(c);
}

}  // namespace werk::net
