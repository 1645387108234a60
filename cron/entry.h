#pragma once
// Cron entries as Faktory Enterprise reads them from conf.d (docs/cron.md):
//
//   [[cron]]
//     schedule = "0 12 27 * *"
//     timezone = "America/Chicago"   # werk: IANA zone, UTC by default
//     name = "monthly-invoices"      # werk: optional identity
//     catch_up = "skip"              # werk: "skip" (default) or "once"
//     grace = 60                     # werk: seconds a tick may fire late
//     [cron.job]
//       type = "Invoice"
//       queue = "critical"
//       args = [1, "two"]
//       retry = 3
//       reserve_for = 600
//       priority = 5
//       [cron.job.custom]
//         expires_in = 60
//
// Thread affinity: none (immutable once loaded).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>
#include <toml++/toml.h>

#include "core/job.h"
#include "core/job_validation.h"
#include "cron/schedule.h"

namespace werk::cron {

// What happens to ticks that passed while no primary fired them and are
// later than `grace`: at most the latest one fires, never a burst.
enum class CatchUp : uint8_t {
  kSkip = 1,  // none fires; the entry goes on with its next tick
  kOnce = 2,  // the latest missed tick fires once, late
};
std::string_view CatchUpName(CatchUp c);

inline constexpr int64_t kGraceDefaultS = 60;
inline constexpr int64_t kGraceMaxS = 7 * 24 * 3600;

struct Entry {
  // Identity: XXH3-64 of "name:" + name when `name` is given, else of the
  // entry's content (schedule, zone, catch_up, grace, and the job template
  // in a canonical form), so a reordered file keeps each entry's identity
  // and a changed entry without a name starts fresh. Never 0.
  uint64_t id = 0;
  std::string name;    // "" unless given
  std::string origin;  // "<file>:<line>" of its [[cron]], for messages
  Schedule schedule;
  CatchUp catch_up = CatchUp::kSkip;
  int64_t grace_s = kGraceDefaultS;
  // The job pushed at each tick, validated at load (core::ValidateJob with
  // the server's limits) but with `jid` and `created_at` empty: the tick
  // fills them in. args_json is a JSON array ("[]" when absent),
  // custom_json a JSON object or empty.
  core::JobSpec job;
  // Faktory's jobs have no priority (it drops the key on PUSH, as werk
  // does): accepted, checked to be 1-9, and has no effect; the loader
  // warns once per entry that sets it.
  std::optional<int64_t> priority;

  // `name`, or "entry N (<schedule>)" in the order of the document.
  std::string label;
};

struct Table {
  std::vector<Entry> entries;  // in the order of the document
  // Things accepted but worth a line in the log (e.g. priority set).
  std::vector<std::string> warnings;

  const Entry* Find(uint64_t id) const;
};

// Names the file and line of a node of the conf.d document
// ("conf.d/cron.toml:12").
using SourceNamer = std::function<std::string(const toml::source_region&)>;

// Reads every [[cron]] of the conf.d document `root` (none: an empty
// table). An error (kInvalidArgument) names the file and line, the entry,
// the field and why: "conf.d/cron.toml:12: [[cron]] entry 2 (0 12 27 * *):
// schedule: day-of-month: 32 is out of range 1-31". Unknown keys in
// [[cron]] or [cron.job] are errors (a misspelt key would otherwise change
// nothing silently); two entries with one identity are an error that says
// to give them distinct names.
absl::StatusOr<Table> LoadTable(const toml::table& root, const SourceNamer& where,
                                const core::JobLimits& limits);

// The jid of entry `id`'s tick at `tick_s`: "cron-<16 hex digits>-<tick_s>".
// The same tick always has the same jid, so a second attempt is refused.
std::string TickJid(uint64_t id, int64_t tick_s);

}  // namespace werk::cron
