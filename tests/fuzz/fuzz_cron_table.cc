// conf.d text as a cron table: whatever TOML parses, LoadTable either loads
// (every entry with a schedule that fires, a job that validates and a
// non-zero identity, identities distinct) or refuses with a message naming
// where; never crashes.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_set.h>
#include <toml++/toml.h>

#include "cron/entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view("cron.toml"));
  } catch (const toml::parse_error&) {
    return 0;
  }
  const werk::cron::SourceNamer where = [](const toml::source_region& r) {
    return "cron.toml:" + std::to_string(r.begin.line);
  };
  absl::StatusOr<werk::cron::Table> table = werk::cron::LoadTable(root, where, {});
  if (!table.ok()) {
    if (table.status().message().empty()) std::abort();
    return 0;
  }
  absl::flat_hash_set<uint64_t> ids;
  for (const werk::cron::Entry& e : table->entries) {
    if (e.id == 0 || !ids.insert(e.id).second) std::abort();
    if (e.job.jobtype.empty() || e.job.queue.empty() || !e.job.jid.empty()) std::abort();
    if (!e.schedule.NextAfter(1'796'317'200)) std::abort();
  }
  return 0;
}
