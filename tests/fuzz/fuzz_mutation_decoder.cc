// Record bodies as the WAL reader would hand them to the decoder: anything
// must be rejected or decoded, and what decodes must apply to a state machine
// and re-encode to the same bytes.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/mutation.h"
#include "core/state_machine.h"

using namespace werk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = core::DecodeMutation(input);
  if (!m) return 0;
  if (core::EncodeMutation(*m) != input) {
    std::fprintf(stderr, "decode/encode is not the identity\n");
    std::abort();
  }
  core::StateMachine sm(0);
  core::JobSpec seed;
  seed.jid = "abcdefgh";
  seed.jobtype = "T";
  seed.queue = "default";
  seed.args_json = "[]";
  (void)sm.Apply(core::Mutation::Push(0, seed));
  (void)sm.Apply(core::Mutation::Reserve(0, "abcdefgh", "w", 1));
  (void)sm.Apply(*m);
  std::vector<const core::Job*> due;
  sm.DueJobs(INT64_MAX / 2'000'000, due, 1000);
  (void)sm.StateHash();
  return 0;
}
