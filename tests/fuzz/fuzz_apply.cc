// Sequences of records of every kind, as the encoder can produce them,
// applied to a group of state machines with timer firings, checkpoint round
// trips and global-operation roll-forwards in between (tests/support/
// mutation_gen.h): Apply must be total, whatever the state.

#include <cstdint>

#include <fuzzer/FuzzedDataProvider.h>

#include "tests/support/mutation_gen.h"

namespace {

struct FuzzSource {
  FuzzedDataProvider& fdp;
  uint64_t Pick(uint64_t n) {
    if (n == 0) return 0;
    return fdp.ConsumeIntegralInRange<uint64_t>(0, n - 1);
  }
  bool Done() const { return fdp.remaining_bytes() == 0; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  FuzzSource src{fdp};
  werk::testing::RunApplySequence(src);
  return 0;
}
