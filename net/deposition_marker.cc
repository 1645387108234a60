#include "net/deposition_marker.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "net/durable_files.h"

namespace werk::net {

namespace {

std::string Dir(const std::string& data_dir) { return data_dir.empty() ? "." : data_dir; }

}  // namespace

std::string DeposedMarkerPath(const std::string& data_dir) { return Dir(data_dir) + "/DEPOSED"; }

std::string FormatDeposedMarker(const DeposedMarker& m) {
  return "epoch " + std::to_string(m.epoch) + "\nprimary " + m.primary + "\nwhen " + m.when +
         "\n";
}

std::optional<DeposedMarker> ParseDeposedMarker(std::string_view text) {
  DeposedMarker m;
  bool epoch = false, primary = false, when = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // every line ends
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    const std::string_view key = line.substr(0, sp), value = line.substr(sp + 1);
    if (key == "epoch" && !epoch) {
      if (value.empty() || value.size() > 19) return std::nullopt;
      for (char c : value)
        if (c < '0' || c > '9') return std::nullopt;
      m.epoch = std::stoull(std::string(value));
      epoch = true;
    } else if (key == "primary" && !primary) {
      m.primary = std::string(value);
      primary = true;
    } else if (key == "when" && !when) {
      m.when = std::string(value);
      when = true;
    } else {
      return std::nullopt;
    }
  }
  if (!epoch || !primary || !when || m.epoch == 0) return std::nullopt;
  return m;
}

absl::Status WriteDeposedMarker(const std::string& data_dir, const DeposedMarker& m) {
  return ReplaceAtomically(DeposedMarkerPath(data_dir), FormatDeposedMarker(m), Dir(data_dir));
}

absl::StatusOr<std::optional<DeposedMarker>> ReadDeposedMarker(const std::string& data_dir) {
  const std::string path = DeposedMarkerPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::optional<DeposedMarker>();
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::optional<DeposedMarker> m = ParseDeposedMarker(ss.str());
  if (!m)
    return absl::FailedPreconditionError(
        path + " is not a deposition marker werk wrote: this data directory's server was "
               "deposed, and it cannot tell by which epoch; restart it with --replica-of the "
               "new primary");
  return m;
}

absl::Status RemoveDeposedMarker(const std::string& data_dir) {
  const std::string path = DeposedMarkerPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return absl::OkStatus();
  return RemoveTree(path, Dir(data_dir));
}

std::string DeposedStartRefusal(const std::string& data_dir, const DeposedMarker& m) {
  const std::string primary = m.primary.empty() ? std::string("the new primary") : m.primary;
  return DeposedMarkerPath(data_dir) + ": this server was deposed by epoch " +
         std::to_string(m.epoch) + " on " + m.when + "; the primary is " +
         (m.primary.empty() ? std::string("unknown") : m.primary) +
         ". A deposed server does not serve as a primary again: to rejoin as the new "
         "primary's standby, restart it with --replica-of " + primary +
         " (its replication address)";
}

}  // namespace werk::net
