#pragma once
// What a job and a FAIL must satisfy once decoded, whatever they came from
// (a Faktory command, cron, an HTTP action): Faktory's push validation and
// its FAIL clean-up, with werk's size limits (faktory-reference.md §3.3).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/limits.h"
#include "core/op_status.h"
#include "core/types.h"

namespace werk::core {

struct JobLimits {
  size_t job_bytes_max = kJobBytesDefault;
};

// Faktory's push validation after decoding (steps 2–9 of §3.3), with werk's
// size limits. Fills in `created_at` (from `now`) and the default queue, and
// parses `at`. An invalid job gets InvalidRequest with Faktory's message.
OpStatus ValidateJob(JobSpec& job, UnixNanos now, const JobLimits& limits);

// Queue names must match \A[a-zA-Z0-9._-]+\z.
bool ValidQueueName(std::string_view name);
std::string InvalidQueueNameError(std::string_view name);

// A FAIL: the reserved job and why it failed.
struct FailRequest {
  std::string jid;
  std::string message;
  std::string errtype;
  std::vector<std::string> backtrace;
};

// Faktory's FAIL clean-up: trim, cap errtype at 100 bytes, message at 1000,
// backtrace at 50 lines, "unknown" for empty texts.
void CleanseFailure(FailRequest* f);

}  // namespace werk::core
