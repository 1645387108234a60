#include "tools/werkctl/cron_table.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <simdjson.h>

namespace werk::ctl {
namespace {

namespace dom = simdjson::dom;

std::string Text(dom::element e, std::string_view key, std::string_view none = "-") {
  dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) return std::string(none);
  switch (v.type()) {
    case dom::element_type::STRING: {
      const std::string_view s(v);
      return s.empty() ? std::string(none) : std::string(s);
    }
    case dom::element_type::INT64: return std::to_string(int64_t(v));
    case dom::element_type::UINT64: return std::to_string(uint64_t(v));
    case dom::element_type::BOOL: return bool(v) ? "true" : "false";
    default: return std::string(none);
  }
}

absl::StatusOr<dom::element> CronBlock(dom::parser& parser, std::string_view info_json) {
  dom::element doc;
  if (parser.parse(info_json.data(), info_json.size()).get(doc) != simdjson::SUCCESS)
    return absl::InvalidArgumentError("INFO is not JSON");
  dom::element cron;
  if (doc["cron"].get(cron) != simdjson::SUCCESS || cron.type() != dom::element_type::OBJECT)
    return absl::NotFoundError(
        "INFO has no cron block: the server is not werk, or has no cron table");
  return cron;
}

}  // namespace

absl::StatusOr<std::string> CronJson(std::string_view info_json) {
  dom::parser parser;
  absl::StatusOr<dom::element> cron = CronBlock(parser, info_json);
  if (!cron.ok()) return cron.status();
  return simdjson::to_string(*cron);
}

absl::StatusOr<std::string> FormatCronTable(std::string_view info_json) {
  dom::parser parser;
  absl::StatusOr<dom::element> cron = CronBlock(parser, info_json);
  if (!cron.ok()) return cron.status();
  dom::array entries;
  if ((*cron)["entries"].get(entries) != simdjson::SUCCESS)
    return absl::InvalidArgumentError("INFO's cron block has no entries array");
  const std::vector<std::string> header = {"NAME", "SCHEDULE", "TIMEZONE", "JOB",
                                           "NEXT",  "LAST FIRED", "LAST JID", "MISSED"};
  std::vector<std::vector<std::string>> rows{header};
  for (dom::element e : entries) {
    rows.push_back({Text(e, "name"), Text(e, "schedule"), Text(e, "timezone"),
                    Text(e, "jobtype") + "@" + Text(e, "queue"), Text(e, "next"),
                    Text(e, "last"), Text(e, "last_jid"), Text(e, "missed")});
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  const bool active = Text(*cron, "active") == "true";
  std::string out = std::string("cron: ") +
                    (active ? "firing" : "not firing (not a writable primary)") + ", " +
                    std::to_string(rows.size() - 1) + " entries, " +
                    Text(*cron, "fired", "0") + " fired, " + Text(*cron, "missed", "0") +
                    " missed, " + Text(*cron, "failed", "0") + " failed pushes since start\n";
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace werk::ctl
