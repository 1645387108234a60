#include "core/job_json.h"

#include "core/json_writer.h"
#include "core/time_format.h"

namespace werk::core {

void AppendFailureJson(std::string& out, const Failure& f) {
  out.append("{\"retry_count\":");
  AppendJsonInt(out, f.retry_count);
  out.append(",\"remaining\":");
  AppendJsonInt(out, f.remaining);
  out.append(",\"failed_at\":");
  AppendJsonString(out, f.failed_at);
  if (!f.next_at.empty()) {
    out.append(",\"next_at\":");
    AppendJsonString(out, f.next_at);
  }
  if (!f.message.empty()) {
    out.append(",\"message\":");
    AppendJsonString(out, f.message);
  }
  if (!f.errtype.empty()) {
    out.append(",\"errtype\":");
    AppendJsonString(out, f.errtype);
  }
  if (!f.backtrace.empty()) {
    out.append(",\"backtrace\":[");
    for (size_t i = 0; i < f.backtrace.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(out, f.backtrace[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

void AppendJobJson(std::string& out, const Job& job) {
  out.append("{\"jid\":");
  AppendJsonString(out, job.jid());
  out.append(",\"queue\":");
  AppendJsonString(out, job.queue_name());
  out.append(",\"jobtype\":");
  AppendJsonString(out, job.jobtype());
  out.append(",\"args\":");
  out.append(job.args_json());
  if (!job.created_at().empty()) {
    out.append(",\"created_at\":");
    AppendJsonString(out, job.created_at());
  }
  if (job.enqueued_at != 0) {
    out.append(",\"enqueued_at\":\"");
    AppendRfc3339Nano(out, job.enqueued_at);
    out.push_back('"');
  }
  if (!job.at().empty()) {
    out.append(",\"at\":");
    AppendJsonString(out, job.at());
  }
  if (job.reserve_for() != 0) {
    out.append(",\"reserve_for\":");
    AppendJsonInt(out, job.reserve_for());
  }
  out.append(",\"retry\":");
  AppendJsonInt(out, job.retry());
  if (job.backtrace() != 0) {
    out.append(",\"backtrace\":");
    AppendJsonInt(out, job.backtrace());
  }
  if (job.failure) {
    out.append(",\"failure\":");
    AppendFailureJson(out, *job.failure);
  }
  if (!job.custom_json().empty()) {
    out.append(",\"custom\":");
    out.append(job.custom_json());
  }
  out.push_back('}');
}

std::string JobJson(const Job& job) {
  std::string s;
  s.reserve(job.footprint_bytes() + 128);
  AppendJobJson(s, job);
  return s;
}

}  // namespace werk::core
