#pragma once
// The seed loop the randomised simulations share (style P19):
// WERK_SIM_SEED=<n> runs that seed alone; otherwise seeds 1 to
// WERK_SIM_SEEDS (default `default_seeds`) run in order up to the first
// that fails, which is named so it can be rerun alone.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>

namespace werk::testing {

// How many seeds ran, all passing; 0 when one seed ran alone or one failed
// (the caller then prints no totals).
template <class Fn>
uint64_t RunSimSeeds(uint64_t default_seeds, Fn run_seed) {
  if (const char* one = std::getenv("WERK_SIM_SEED")) {
    run_seed(std::strtoull(one, nullptr, 10));
    return 0;
  }
  const char* n_env = std::getenv("WERK_SIM_SEEDS");
  const uint64_t n = n_env ? std::strtoull(n_env, nullptr, 10) : default_seeds;
  for (uint64_t seed = 1; seed <= n; ++seed) {
    run_seed(seed);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "failing seed: " << seed;
      return 0;
    }
  }
  return n;
}

}  // namespace werk::testing
