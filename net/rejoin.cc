#include "net/rejoin.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/mutation.h"
#include "net/durable_files.h"
#include "net/shard_storage.h"
#include "wal/diverged_copy.h"
#include "wal/truncate.h"
#include "wal/uring_storage.h"

namespace werk::net {

namespace {

constexpr std::string_view kHeader = "werk rejoin 1";

std::string Dir(const std::string& data_dir) { return data_dir.empty() ? "." : data_dir; }

std::string ShardCopyDir(const std::string& data_dir, const RejoinPlan& plan, uint32_t shard) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard-%03u", shard);
  return Dir(data_dir) + "/" + plan.copy_dir + "/" + buf;
}

absl::StatusOr<std::unique_ptr<wal::UringStorage>> OpenLog(const std::string& data_dir,
                                                           uint32_t shard) {
  // Blocking calls only (no reactor).
  return wal::UringStorage::Open(ShardLogDir(Dir(data_dir), shard), nullptr, {});
}

// The copy of one shard, made whole or made again.
absl::Status CopyAside(const std::string& data_dir, const RejoinPlan& plan, uint32_t shard,
                       std::vector<std::string>* notes) {
  const std::string to = ShardCopyDir(data_dir, plan, shard);
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) {
    // A copy a crash interrupted: it was never recorded as made.
    if (auto st = RemoveTree(to, Dir(data_dir) + "/" + plan.copy_dir); !st.ok()) return st;
    notes->push_back("removed the incomplete copy " + to);
  }
  auto copied = wal::CopyShardDir(ShardLogDir(Dir(data_dir), shard), to);
  if (!copied.ok()) return copied.status();
  notes->push_back("shard " + std::to_string(shard) + ": copied " +
                   std::to_string(copied->files.size()) + " files (" +
                   std::to_string(copied->bytes) + " bytes) aside to " + to);
  return absl::OkStatus();
}

}  // namespace

std::string RejoinMarkerPath(const std::string& data_dir) { return Dir(data_dir) + "/REJOIN"; }

std::string FormatRejoinPlan(const RejoinPlan& plan) {
  std::string out(kHeader);
  out += "\ncopy " + plan.copy_dir + "\n";
  for (const PendingCut& c : plan.cuts) {
    out += "cut " + std::to_string(c.shard) + " " + std::to_string(c.fork.value()) +
           (c.copied ? " copied" : " pending") + (c.bootstrap ? " bootstrap\n" : "\n");
  }
  return out;
}

absl::StatusOr<RejoinPlan> ParseRejoinPlan(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  auto bad = [](const std::string& why) {
    return absl::DataLossError("the REJOIN file is damaged: " + why);
  };
  if (!std::getline(in, line) || line != kHeader) return bad("no header");
  RejoinPlan plan;
  if (!std::getline(in, line) || line.rfind("copy ", 0) != 0 || line.size() <= 5)
    return bad("no copy line");
  plan.copy_dir = line.substr(5);
  if (plan.copy_dir.find('/') != std::string::npos || plan.copy_dir.find("..") != std::string::npos)
    return bad("a copy directory outside the data directory");
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string word, state, how, extra;
    uint64_t shard = 0, fork = 0;
    if (!(l >> word >> shard >> fork >> state) || word != "cut" || fork == 0 ||
        shard > UINT32_MAX || (state != "copied" && state != "pending"))
      return bad("line '" + line + "'");
    const bool bootstrap = bool(l >> how);
    if ((bootstrap && how != "bootstrap") || (l >> extra)) return bad("line '" + line + "'");
    plan.cuts.push_back({uint32_t(shard), core::Lsn(fork), state == "copied", bootstrap});
  }
  if (plan.cuts.empty()) return bad("no cut");
  return plan;
}

absl::Status WriteRejoinMarker(const std::string& data_dir, const RejoinPlan& plan) {
  return ReplaceAtomically(RejoinMarkerPath(data_dir), FormatRejoinPlan(plan), Dir(data_dir));
}

absl::Status ClearRejoinMarker(const std::string& data_dir) {
  return RemoveTree(RejoinMarkerPath(data_dir), Dir(data_dir));
}

absl::StatusOr<std::optional<RejoinPlan>> ReadRejoinMarker(const std::string& data_dir) {
  const std::string path = RejoinMarkerPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::optional<RejoinPlan>();
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto plan = ParseRejoinPlan(ss.str());
  if (!plan.ok())
    return absl::Status(plan.status().code(), path + ": " + std::string(plan.status().message()));
  return std::optional<RejoinPlan>(std::move(*plan));
}

DivergedTail InspectDivergedTail(const std::string& data_dir, uint32_t shard, core::Lsn fork,
                                 std::optional<core::Lsn> alone_since, core::Epoch* epoch) {
  DivergedTail t;
  t.shard = shard;
  t.fork = fork;
  t.alone_since = alone_since;
  if (fork.value() == 0) {
    t.cut_refused = "a fork at LSN 0";
    return t;
  }
  auto storage = OpenLog(data_dir, shard);
  if (!storage.ok()) {
    t.cut_refused = std::string(storage.status().message());
    return t;
  }
  wal::TruncateOptions o;
  o.shard = shard;
  o.dry_run = true;
  o.on_dropped = [&t](core::Lsn lsn, std::string_view body) {
    if (t.replication_record || body.empty() ||
        uint8_t(body[0]) != uint8_t(core::MutationType::kReplication))
      return;
    if (auto m = core::DecodeMutation(body); m && m->type == core::MutationType::kReplication)
      t.replication_record = lsn;
  };
  auto report = wal::TruncateAfter(**storage, core::Lsn(fork.value() - 1), o);
  if (!report.ok()) {
    t.cut_refused = std::string(report.status().message());
    // wal/truncate.h: no consistent start after a cut there.
    t.needs_bootstrap = absl::IsFailedPrecondition(report.status()) &&
                        t.cut_refused.find("bootstrap from the primary") != std::string::npos;
    return t;
  }
  t.records = report->records_dropped;
  t.first = report->first_dropped;
  t.last = report->last_dropped;
  if (epoch && !report->epochs_dropped.empty()) *epoch = report->epochs_dropped.back();
  return t;
}

absl::Status FinishPendingCuts(const std::string& data_dir, std::vector<std::string>* notes) {
  auto marker = ReadRejoinMarker(data_dir);
  if (!marker.ok()) return marker.status();
  if (!marker->has_value()) return absl::OkStatus();
  RejoinPlan plan = std::move(**marker);
  // 1. The copies, each recorded once whole.
  for (PendingCut& c : plan.cuts) {
    if (c.copied) continue;
    if (auto st = CopyAside(data_dir, plan, c.shard, notes); !st.ok()) return st;
    c.copied = true;
    if (auto st = WriteRejoinMarker(data_dir, plan); !st.ok()) return st;
  }
  // 2. The cuts (re-runnable: a second cut at the same LSN writes nothing).
  for (const PendingCut& c : plan.cuts) {
    if (c.bootstrap) {
      // The whole log goes (re-runnable): the shard starts empty, and its
      // primary bootstraps it.
      const std::string dir = ShardLogDir(Dir(data_dir), c.shard);
      const std::string parent = Dir(data_dir) + "/wal";
      if (auto st = RemoveTree(dir, parent); !st.ok()) return st;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return absl::InternalError("create " + dir + ": " + ec.message());
      if (auto st = SyncPath(parent); !st.ok()) return st;
      notes->push_back("shard " + std::to_string(c.shard) + ": emptied its log, to be "
                       "bootstrapped from the primary's checkpoint");
      continue;
    }
    auto storage = OpenLog(data_dir, c.shard);
    if (!storage.ok()) return storage.status();
    wal::TruncateOptions o;
    o.shard = c.shard;
    auto report = wal::TruncateAfter(**storage, core::Lsn(c.fork.value() - 1), o);
    if (!report.ok()) {
      const std::string what = "shard " + std::to_string(c.shard) +
                               ": cutting the diverged log after LSN " +
                               std::to_string(c.fork.value() - 1) + " (" +
                               RejoinMarkerPath(data_dir) + "): ";
      return absl::Status(report.status().code(),
                          what + std::string(report.status().message()));
    }
    std::string what = report->records_dropped == 0
                           ? "nothing left to drop"
                           : "dropped " + std::to_string(report->records_dropped) +
                                 " records (LSN " + std::to_string(report->first_dropped.value()) +
                                 ".." + std::to_string(report->last_dropped.value()) + ")";
    notes->push_back("shard " + std::to_string(c.shard) + ": cut the log after LSN " +
                     std::to_string(c.fork.value() - 1) + ": " + what);
  }
  // 3. Done: the log is the primary's prefix; the shards recover from it.
  if (auto st = ClearRejoinMarker(data_dir); !st.ok()) return st;
  notes->push_back("the rejoin's cuts are done; the copies are in " + Dir(data_dir) + "/" +
                   plan.copy_dir);
  return absl::OkStatus();
}

}  // namespace werk::net
