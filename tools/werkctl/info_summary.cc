#include "tools/werkctl/info_summary.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <simdjson.h>

namespace werk::ctl {

namespace {

namespace dom = simdjson::dom;

// Longest queue name padded into a column; longer names push their size out.
constexpr size_t kQueueColumnMax = 40;

// A scalar as text: numbers as JSON wrote them (integers without a
// fraction), strings unquoted. nullopt for objects and arrays.
std::optional<std::string> ScalarText(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64:
      return std::to_string(int64_t(e));
    case dom::element_type::UINT64:
      return std::to_string(uint64_t(e));
    case dom::element_type::DOUBLE: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", double(e));
      return std::string(buf);
    }
    case dom::element_type::STRING:
      return std::string(std::string_view(e));
    case dom::element_type::BOOL:
      return bool(e) ? "true" : "false";
    case dom::element_type::NULL_VALUE:
      return "null";
    case dom::element_type::ARRAY:
    case dom::element_type::OBJECT:
      return std::nullopt;
  }
  return std::nullopt;
}

// The scalar at a JSON pointer ("/server/uptime"), or nullopt.
std::optional<std::string> At(dom::element doc, std::string_view pointer) {
  dom::element e;
  if (doc.at_pointer(pointer).get(e) != simdjson::SUCCESS) return std::nullopt;
  return ScalarText(e);
}

// "label value" for each field present, joined by ", ".
std::string Fields(dom::element doc,
                   std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string out;
  for (const auto& [label, pointer] : fields) {
    const std::optional<std::string> v = At(doc, pointer);
    if (!v) continue;
    if (!out.empty()) out += ", ";
    out += std::string(label) + " " + *v;
  }
  return out;
}

void AddLine(std::string& out, std::string_view label, const std::string& text) {
  if (text.empty()) return;
  out += label;
  out.append(label.size() < 13 ? 13 - label.size() : 1, ' ');
  out += text;
  out += '\n';
}

std::string ServerLine(dom::element doc) {
  const std::string description = At(doc, "/server/description").value_or("server");
  std::string line = description;
  const std::optional<std::string> werk_version = At(doc, "/server/werk_version");
  const std::optional<std::string> faktory_version = At(doc, "/server/faktory_version");
  if (werk_version) {
    line += " " + *werk_version;
    if (faktory_version) line += " (Faktory protocol " + *faktory_version + ")";
  } else if (faktory_version) {
    line += " " + *faktory_version;
  }
  int64_t uptime = 0;
  if (doc.at_pointer("/server/uptime").get_int64().get(uptime) == simdjson::SUCCESS)
    line += ", up " + FormatUptime(uptime);
  return line;
}

// "3, commands 1234, memory 14 MB" (the line's label names the first figure).
std::string ConnectionsLine(dom::element doc) {
  const std::optional<std::string> connections = At(doc, "/server/connections");
  if (!connections) return "";
  std::string line = *connections;
  if (const std::optional<std::string> commands = At(doc, "/server/command_count"))
    line += ", commands " + *commands;
  if (const std::optional<std::string> mb = At(doc, "/server/used_memory_mb"))
    line += ", memory " + *mb + " MB";
  return line;
}

// werk's own scalar fields, in the order the server wrote them.
std::string WerkLine(dom::element doc) {
  dom::object werk;
  if (doc["werk"].get(werk) != simdjson::SUCCESS) return "";
  std::string line;
  for (const dom::key_value_pair field : werk) {
    const std::optional<std::string> v = ScalarText(field.value);
    if (!v) continue;
    if (!line.empty()) line += ", ";
    line += std::string(field.key) + " " + *v;
  }
  return line;
}

void AddQueues(std::string& out, dom::element doc) {
  dom::object queues;
  if (doc.at_pointer("/faktory/queues").get(queues) != simdjson::SUCCESS) return;
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const dom::key_value_pair q : queues) {
    rows.emplace_back(std::string(q.key), ScalarText(q.value).value_or("?"));
    width = std::max(width, std::min(q.key.size(), kQueueColumnMax));
  }
  std::sort(rows.begin(), rows.end());
  std::string head = std::to_string(rows.size()) + (rows.size() == 1 ? " queue" : " queues");
  if (const std::optional<std::string> total = At(doc, "/faktory/total_enqueued"))
    head += ", " + *total + " jobs enqueued";
  AddLine(out, "queues:", head);
  for (const auto& [name, size] : rows) {
    out += "  " + name;
    out.append(name.size() < width ? width - name.size() : 0, ' ');
    out += "  " + size + "\n";
  }
}

}  // namespace

std::string FormatUptime(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t days = seconds / 86400, hours = seconds / 3600 % 24;
  const int64_t minutes = seconds / 60 % 60, secs = seconds % 60;
  std::string out;
  if (days > 0) out += std::to_string(days) + "d ";
  if (days > 0 || hours > 0) out += std::to_string(hours) + "h ";
  if (days > 0 || hours > 0 || minutes > 0) out += std::to_string(minutes) + "m ";
  return out + std::to_string(secs) + "s";
}

absl::StatusOr<std::string> SummarizeInfo(std::string_view info_json) {
  dom::parser parser;
  dom::element doc;
  if (const auto err = parser.parse(info_json.data(), info_json.size()).get(doc); err)
    return absl::UnavailableError(std::string("the INFO reply is not JSON: ") +
                                  simdjson::error_message(err));
  if (!doc.is_object()) return absl::UnavailableError("the INFO reply is not a JSON object");
  std::string out;
  AddLine(out, "server:", ServerLine(doc));
  AddLine(out, "connections:", ConnectionsLine(doc));
  AddLine(out, "werk:", WerkLine(doc));
  AddQueues(out, doc);
  AddLine(out, "sets:", Fields(doc, {{"scheduled", "/faktory/sets/scheduled"},
                                     {"retries", "/faktory/sets/retries"},
                                     {"dead", "/faktory/sets/dead"},
                                     {"working", "/faktory/sets/working"}}));
  AddLine(out, "totals:", Fields(doc, {{"processed", "/faktory/total_processed"},
                                       {"failures", "/faktory/total_failures"}}));
  return out;
}

absl::StatusOr<std::string> DescribeRole(std::string_view info_json) {
  dom::parser parser;
  dom::element doc;
  if (const auto err = parser.parse(info_json.data(), info_json.size()).get(doc); err)
    return absl::UnavailableError(std::string("the INFO reply is not JSON: ") +
                                  simdjson::error_message(err));
  std::string out;
  if (std::optional<std::string> role = At(doc, "/werk/role")) out = "the " + *role;
  std::optional<int64_t> epoch;
  dom::array shards;
  if (doc.at_pointer("/werk/shards").get(shards) == simdjson::SUCCESS) {
    for (dom::element shard : shards) {
      int64_t e = 0;
      if (shard.at_pointer("/replication/epoch").get_int64().get(e) == simdjson::SUCCESS)
        epoch = std::max(epoch.value_or(e), e);
    }
  }
  if (epoch) out += (out.empty() ? "" : ", ") + std::string("epoch ") + std::to_string(*epoch);
  return out;
}

}  // namespace werk::ctl
