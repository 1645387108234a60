// Apply is total: seeded sequences of records of every kind (the Apply
// fuzzer's driver, tests/support/mutation_gen.h) against groups of state
// machines. Under ASan+UBSan in CI, this also checks for memory errors and
// undefined behaviour (overflowing times and counters).

#include <random>

#include <gtest/gtest.h>

#include "tests/support/mutation_gen.h"

namespace werk::core {
namespace {

struct SeededSource {
  std::mt19937_64 rng;
  int budget = 20'000;
  uint64_t Pick(uint64_t n) {
    --budget;
    return n == 0 ? 0 : rng() % n;
  }
  bool Done() const { return budget <= 0; }
};

TEST(ApplyTotal, RandomSequencesOfEveryRecordKind) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SeededSource src{std::mt19937_64(seed)};
    testing::RunApplySequence(src);
  }
}

}  // namespace
}  // namespace werk::core
