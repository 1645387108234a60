#include "net/bootstrap.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "net/durable_files.h"
#include "net/shard_storage.h"
#include "wal/log_format.h"

namespace werk::net {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHeader = "werk bootstrap 1";
constexpr std::string_view kStagingSuffix = ".bootstrap";
constexpr std::string_view kOldSuffix = ".old";

std::string Dir(const std::string& data_dir) { return data_dir.empty() ? "." : data_dir; }

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// One shard's install, from wherever a crash left it.
absl::Status Install(const std::string& data_dir, const PendingBootstrap& b,
                     std::vector<std::string>* notes) {
  const std::string live = ShardLogDir(Dir(data_dir), b.shard);
  const std::string staged = BootstrapStagingDir(data_dir, b.shard);
  const std::string old = live + std::string(kOldSuffix);
  const std::string wal_dir = fs::path(live).parent_path().string();
  const std::string what = "installing the bootstrap of shard " + std::to_string(b.shard) +
                           " (checkpoint at LSN " + std::to_string(b.lsn.value()) + ", " +
                           BootstrapMarkerPath(data_dir) + "): ";
  if (Exists(staged)) {
    if (!Exists(staged + "/" + wal::CheckpointName(b.lsn.value())))
      return absl::DataLossError(what + staged + " holds no " +
                                 wal::CheckpointName(b.lsn.value()));
    if (Exists(live)) {
      if (Exists(old)) {
        // A finished install's leftover (never the only copy: live exists).
        if (auto st = RemoveTree(old, wal_dir); !st.ok()) return st;
      }
      if (auto st = Rename(live, old, wal_dir); !st.ok()) return st;
    }
    if (auto st = Rename(staged, live, wal_dir); !st.ok()) return st;
    notes->push_back("shard " + std::to_string(b.shard) + ": " + live +
                     " now holds only the primary's checkpoint at LSN " +
                     std::to_string(b.lsn.value()));
  } else if (!Exists(live)) {
    return absl::DataLossError(what + "neither " + staged + " nor " + live + " exists");
  }
  if (Exists(old)) {
    if (auto st = RemoveTree(old, wal_dir); !st.ok()) return st;
    notes->push_back("shard " + std::to_string(b.shard) + ": removed the log it replaced");
  }
  return absl::OkStatus();
}

}  // namespace

std::string BootstrapMarkerPath(const std::string& data_dir) {
  return Dir(data_dir) + "/BOOTSTRAP";
}

std::string BootstrapStagingDir(const std::string& data_dir, uint32_t shard) {
  return ShardLogDir(Dir(data_dir), shard) + std::string(kStagingSuffix);
}

std::string FormatBootstrapPlan(const std::vector<PendingBootstrap>& plan) {
  std::string out(kHeader);
  out += "\n";
  for (const PendingBootstrap& b : plan)
    out += "shard " + std::to_string(b.shard) + " lsn " + std::to_string(b.lsn.value()) + "\n";
  return out;
}

absl::StatusOr<std::vector<PendingBootstrap>> ParseBootstrapPlan(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  auto bad = [](const std::string& why) {
    return absl::DataLossError("the BOOTSTRAP file is damaged: " + why);
  };
  if (!std::getline(in, line) || line != kHeader) return bad("no header");
  std::vector<PendingBootstrap> plan;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string shard_word, lsn_word, extra;
    uint64_t shard = 0, lsn = 0;
    if (!(l >> shard_word >> shard >> lsn_word >> lsn) || (l >> extra) || shard_word != "shard" ||
        lsn_word != "lsn" || lsn == 0 || shard > UINT32_MAX)
      return bad("line '" + line + "'");
    plan.push_back({uint32_t(shard), core::Lsn(lsn)});
  }
  if (plan.empty()) return bad("no shard");
  return plan;
}

absl::Status WriteBootstrapMarker(const std::string& data_dir,
                                  const std::vector<PendingBootstrap>& plan) {
  return ReplaceAtomically(BootstrapMarkerPath(data_dir), FormatBootstrapPlan(plan),
                           Dir(data_dir));
}

absl::StatusOr<std::vector<PendingBootstrap>> ReadBootstrapMarker(const std::string& data_dir) {
  const std::string path = BootstrapMarkerPath(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return std::vector<PendingBootstrap>();
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto plan = ParseBootstrapPlan(ss.str());
  if (!plan.ok())
    return absl::Status(plan.status().code(), path + ": " + std::string(plan.status().message()));
  return plan;
}

absl::Status FinishPendingBootstraps(const std::string& data_dir,
                                     std::vector<std::string>* notes) {
  auto plan = ReadBootstrapMarker(data_dir);
  if (!plan.ok()) return plan.status();
  for (const PendingBootstrap& b : *plan)
    if (auto st = Install(data_dir, b, notes); !st.ok()) return st;
  if (!plan->empty()) {
    if (auto st = RemoveTree(BootstrapMarkerPath(data_dir), Dir(data_dir)); !st.ok()) return st;
    notes->push_back("the bootstrap's install is done");
  }
  // Staging directories no BOOTSTRAP file names: bootstraps that did not
  // finish (the shard's own log was never touched).
  const std::string wal_dir = Dir(data_dir) + "/wal";
  std::error_code ec;
  std::vector<std::string> stale;
  for (const auto& e : fs::directory_iterator(wal_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("shard-", 0) == 0 && name.size() > kStagingSuffix.size() &&
        name.ends_with(kStagingSuffix))
      stale.push_back(e.path().string());
  }
  for (const std::string& s : stale) {
    if (auto st = RemoveTree(s, wal_dir); !st.ok()) return st;
    notes->push_back("removed " + s + " (a bootstrap that did not finish)");
  }
  return absl::OkStatus();
}

}  // namespace werk::net
