#pragma once
// Job fields of Faktory Enterprise that werk accepts but does not act on yet
// (faktory-reference.md §3.7, §5.2-§5.5): unique jobs, expiring jobs,
// batches and tracking, all keys of a job's `custom` object. As in Faktory
// OSS, a job carrying them is stored and delivered unchanged, as an ordinary
// job; werk says so in its log, once per field and process, and counts the
// jobs that carried each field (INFO's werk.unimplemented_job_fields).
//
// The decoders (net/job_decoder.h) look at `custom`'s keys only when a job
// has a `custom` object; the shard that decoded the job counts it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace werk::net {

// The fields, as INFO and the log name them.
inline constexpr size_t kEnterpriseFieldCount = 6;
inline constexpr std::array<std::string_view, kEnterpriseFieldCount> kEnterpriseFieldNames = {
    "custom.unique_for",  // unique jobs (§5.2)
    "custom.unique_until",
    "custom.expires_at",  // expiring jobs (§5.3)
    "custom.expires_in",
    "custom.bid",    // batch membership (§5.4)
    "custom.track",  // job tracking (§5.5)
};
inline constexpr std::string_view kCustomPrefix = "custom.";

// A set of fields: bit i is kEnterpriseFieldNames[i].
using EnterpriseFieldSet = uint8_t;
static_assert(kEnterpriseFieldCount <= 8 * sizeof(EnterpriseFieldSet));

// The field a key of `custom` is (an exact match: `custom` is a Go map), as
// a set of one; 0 when it is none of them.
inline EnterpriseFieldSet EnterpriseFieldOfCustomKey(std::string_view key) {
  for (size_t i = 0; i < kEnterpriseFieldCount; ++i) {
    if (kEnterpriseFieldNames[i].substr(kCustomPrefix.size()) == key)
      return EnterpriseFieldSet(1u << i);
  }
  return 0;
}

// How many jobs carried each field.
struct EnterpriseFieldUses {
  std::array<uint64_t, kEnterpriseFieldCount> jobs{};
  EnterpriseFieldSet seen = 0;  // the fields counted at least once

  // One job carrying `fields`.
  void Note(EnterpriseFieldSet fields) {
    seen |= fields;
    for (size_t i = 0; i < kEnterpriseFieldCount; ++i) jobs[i] += (fields >> i) & 1u;
  }
  void Add(const EnterpriseFieldUses& other) {
    seen |= other.seen;
    for (size_t i = 0; i < kEnterpriseFieldCount; ++i) jobs[i] += other.jobs[i];
  }
};

// Logs at warn level that each field of `fields` is not implemented, the
// first time this process sees it (whichever shard does: the flags are
// process-wide). Any thread.
void WarnEnterpriseFieldsOnce(EnterpriseFieldSet fields);

}  // namespace werk::net
