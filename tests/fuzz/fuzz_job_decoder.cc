// The job decoder must reject or accept every input without crashing, and a
// job it accepts must render back to valid, re-decodable JSON.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/job.h"
#include "core/job_json.h"
#include "net/job_decoder.h"

using namespace werk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static net::JobDecoder decoder;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  core::JobSpec job;
  std::string error;
  if (!decoder.DecodeOne(input, &job, &error)) return 0;
  if (net::ValidateJob(job, 1'700'000'000'000'000'000, {})) return 0;
  // What FETCH would send must itself decode to the same job.
  auto stored = core::Job::Create(job, 1);
  const std::string json = core::JobJson(*stored);
  core::JobSpec again;
  if (!decoder.DecodeOne(json, &again, &error)) {
    std::fprintf(stderr, "rendered job does not decode: %s\n%s\n", error.c_str(), json.c_str());
    std::abort();
  }
  if (again.jid != job.jid || again.args_json != job.args_json || again.queue != job.queue) {
    std::fprintf(stderr, "round trip changed the job\n%s\n", json.c_str());
    std::abort();
  }
  std::vector<core::JobSpec> jobs;
  (void)decoder.DecodeMany(input, &jobs, &error);
  return 0;
}
