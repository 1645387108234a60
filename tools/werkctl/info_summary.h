#pragma once
// `werkctl info`: the INFO document (net/info.cc; reference §9 item 7) as a
// few lines for a person.
//
// Reads only what Faktory's INFO holds (server, faktory.queues, sets,
// totals), so it also summarizes a Faktory server, plus every scalar field
// of werk's own `werk` section (role, epoch, primary, … as the server adds
// them): a new field shows up without a change here. Missing fields are
// left out, never an error; JSON that does not parse is.

#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace werk::ctl {

absl::StatusOr<std::string> SummarizeInfo(std::string_view info_json);

// What INFO says the server is, for `werkctl promote`: "the primary, epoch
// 3" (werk.role and the highest epoch of werk.shards[].replication; either
// left out when absent). JSON that does not parse is an error.
absl::StatusOr<std::string> DescribeRole(std::string_view info_json);

// "3d 4h 5m 6s", "2m 0s", "7s".
std::string FormatUptime(int64_t seconds);

}  // namespace werk::ctl
