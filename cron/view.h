#pragma once
// What the cron driver publishes for other threads (INFO, werkctl, the Web
// UI): the table and each entry's state, as of the last durable change.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace werk::cron {

struct EntryView {
  uint64_t id = 0;
  std::string label;  // the name, or "entry N (<schedule>)"
  std::string name;
  std::string schedule;
  std::string timezone;
  std::string catch_up;
  int64_t grace_s = 0;
  std::string jobtype;
  std::string queue;
  std::optional<int64_t> next;  // unix seconds
  std::optional<int64_t> last;  // the latest tick fired
  std::string last_jid;         // when it fired in this process
  int64_t last_late_ms = 0;
  uint64_t fired = 0;
  uint64_t missed = 0;
  bool in_flight = false;
};

struct View {
  // Firing: this server is the primary and its log is healthy. A standby
  // (or a deposed or failed primary) shows its table but fires nothing.
  bool active = false;
  uint64_t fired_total = 0;
  uint64_t missed_total = 0;
  uint64_t failed_total = 0;  // pushes the log refused (each tried again)
  std::vector<EntryView> entries;  // in the order of the table
};

}  // namespace werk::cron
