// werkctl wal dump|verify: the write-ahead log inspection of
// tools/wal_inspect.h (the same as werk-wal-dump), on files: no server.
//   wal verify PATH     list segments and checkpoints, verify and replay
//   wal dump PATH       the same, printing every record (--lsn N: one;
//                       --cut-after N: what a rejoin's cut would drop)

#include "tools/wal_inspect.h"
#include "tools/werkctl/groups.h"

namespace werk::ctl {

namespace {

class WalGroup final : public CommandGroup {
 public:
  void Register(CLI::App& app, bool*) override {
    wal_ = app.add_subcommand("wal", "inspect a write-ahead log on disk (read-only; no server)");
    wal_->require_subcommand(1);
    verify_ = wal_->add_subcommand("verify", "list segments and checkpoints, verify and replay");
    dump_ = wal_->add_subcommand("dump", "verify, printing every record (or one: --lsn)");
    for (CLI::App* a : {verify_, dump_})
      a->add_option("path", path_, "a data directory, or one shard's log directory")->required();
    dump_->add_option("--lsn", opts_.lsn, "print only the record with this LSN");
    dump_->add_option("--cut-after", opts_.cut_after,
                      "print what cutting each log after this LSN would drop (a dry run)");
  }
  bool Offline() const override { return true; }
  std::optional<int> Run(Session&) override {
    if (verify_->parsed()) return tools::InspectWal(path_, opts_, "werkctl wal verify");
    if (dump_->parsed()) {
      opts_.records = opts_.lsn == 0;
      return tools::InspectWal(path_, opts_, "werkctl wal dump");
    }
    return std::nullopt;
  }

 private:
  std::string path_;
  tools::WalInspectOptions opts_;
  CLI::App* wal_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* dump_ = nullptr;
};

}  // namespace

std::unique_ptr<CommandGroup> WalCommands() { return std::make_unique<WalGroup>(); }

}  // namespace werk::ctl
