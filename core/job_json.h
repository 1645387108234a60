#pragma once
// Renders a job the way Faktory emits it on FETCH and stores it in its sets
// (reference §3.2), key order of Faktory ≤ 1.9.1 (the order of the 1.8.0
// captures): jid, queue, jobtype, args, created_at, enqueued_at, at,
// reserve_for, retry, backtrace, failure, custom. Empty optional fields are
// omitted as Go's `omitempty` does. `args` and `custom` are the client's bytes.

#include <string>

#include "core/job.h"

namespace werk::core {

void AppendJobJson(std::string& out, const Job& job);
std::string JobJson(const Job& job);
void AppendFailureJson(std::string& out, const Failure& f);

}  // namespace werk::core
