// The job decoder must reject or accept every input without crashing, a job
// it accepts must render back to valid, re-decodable JSON, and a PUSHB
// decoded a slice at a time must come out as the one-shot decoder's.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/job_json.h"
#include "net/job_decoder.h"

using namespace werk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static net::JobDecoder decoder;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  {
    std::vector<core::JobSpec> whole, sliced;
    const bool ok = decoder.DecodeMany(input, &whole).ok();
    net::JobBatchDecoder batch;
    core::OpStatus s = batch.Start(input);
    const size_t slice = 1 + size % 7;
    while (s.ok() && !batch.done()) s = batch.Next(slice, &sliced);
    if (s.ok() != ok || (ok && sliced != whole)) {
      std::fprintf(stderr, "sliced PUSHB decoding disagrees (%d vs %d): %s\n", int(s.ok()),
                   int(ok), std::string(s.message()).c_str());
      std::abort();
    }
  }
  core::JobSpec job;
  if (!decoder.DecodeOne(input, &job).ok()) return 0;
  if (!core::ValidateJob(job, 1'700'000'000'000'000'000, {}).ok()) return 0;
  // What FETCH would send must itself decode to the same job.
  auto stored = core::Job::Create(job, 1);
  const std::string json = core::JobJson(*stored);
  core::JobSpec again;
  if (core::OpStatus s = decoder.DecodeOne(json, &again); !s.ok()) {
    std::fprintf(stderr, "rendered job does not decode: %s\n%s\n", std::string(s.message()).c_str(),
                 json.c_str());
    std::abort();
  }
  if (again.jid != job.jid || again.args_json != job.args_json || again.queue != job.queue) {
    std::fprintf(stderr, "round trip changed the job\n%s\n", json.c_str());
    std::abort();
  }
  return 0;
}
