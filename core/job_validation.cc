#include "core/job_validation.h"

#include <cstdint>
#include <optional>

#include <absl/strings/ascii.h>

#include "core/limits.h"
#include "core/time_format.h"

namespace werk::core {

bool ValidQueueName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
          c == '-'))
      return false;
  }
  return true;
}

std::string InvalidQueueNameError(std::string_view name) {
  std::string e = "cannot get \"";
  e.append(name);
  e.append("\" queue: queue names must match \\A[a-zA-Z0-9._-]+\\z");
  return e;
}

OpStatus ValidateJob(JobSpec& job, UnixNanos now, const JobLimits& limits) {
  if (job.jid.size() < kJidBytesMin)
    return InvalidRequest("jobs must have a reasonable jid parameter");
  if (job.jid.size() > kJidBytesMax)
    return InvalidRequest("jobs must have a reasonable jid parameter (at most " +
                          std::to_string(kJidBytesMax) + " bytes)");
  if (job.jobtype.empty()) return InvalidRequest("jobs must have a jobtype parameter");
  if (job.args_json.empty()) return InvalidRequest("jobs must have an args parameter");
  if (job.reserve_for > kReserveForSecondsMax)
    return InvalidRequest("jobs cannot be reserved for more than one day");
  // Faktory keeps any int and raises values under 60 to 60 at FETCH; werk
  // stores reserve_for and backtrace in 32 bits, so it keeps (and echoes)
  // every value down to -2^31 exactly and refuses the absurd rest instead of
  // echoing a different number (docs/compatibility.md).
  if (job.reserve_for < INT32_MIN)
    return InvalidRequest("reserve_for is out of range: " + std::to_string(job.reserve_for));
  if (job.backtrace < INT32_MIN || job.backtrace > INT32_MAX)
    return InvalidRequest("backtrace is out of range: " + std::to_string(job.backtrace));
  const size_t bytes = job.jid.size() + job.jobtype.size() + job.queue.size() +
                       job.args_json.size() + job.custom_json.size() + job.created_at.size() +
                       job.at.size();
  if (bytes > limits.job_bytes_max)
    return InvalidRequest("job is too large: " + std::to_string(bytes) +
                          " bytes, the limit is " + std::to_string(limits.job_bytes_max));
  if (job.created_at.empty()) job.created_at = FormatRfc3339Nano(now);
  if (job.queue.empty()) job.queue = "default";
  job.at_ns = 0;
  if (!job.at.empty()) {
    OpResult<UnixNanos> t = ParseRfc3339(job.at);
    if (!t.ok()) {
      return InvalidRequest("invalid timestamp for 'at': \"" + job.at +
                            "\": " + std::string(t.status().message()));
    }
    job.at_ns = *t;
  }
  // Faktory validates the queue name only when the job is enqueued, and drops
  // a scheduled job with a bad name when it comes due. werk rejects it at
  // push, whatever `at` says (docs/compatibility.md).
  if (!ValidQueueName(job.queue) || job.queue.size() > kQueueNameBytesMax)
    return InvalidRequest(InvalidQueueNameError(job.queue));
  return OkStatus();
}

void CleanseFailure(FailRequest* f) {
  auto trim = [](std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n\v\f");
    if (b == std::string::npos) {
      s.clear();
      return;
    }
    const auto e = s.find_last_not_of(" \t\r\n\v\f");
    s = s.substr(b, e - b + 1);
  };
  trim(f->errtype);
  trim(f->message);
  if (f->errtype.empty()) f->errtype = "unknown";
  if (f->errtype.size() > kFailErrtypeBytesMax) f->errtype.resize(kFailErrtypeBytesMax);
  if (f->message.empty()) f->message = "unknown";
  if (f->message.size() > kFailMessageBytesMax) f->message.resize(kFailMessageBytesMax);
  if (f->backtrace.size() > kFailBacktraceLinesMax)
    f->backtrace.resize(kFailBacktraceLinesMax);
}

}  // namespace werk::core
