// werkctl info, cron and promote: what INFO says, and PROMOTE.

#include <cstdio>

#include "tools/werkctl/cron_table.h"
#include "tools/werkctl/groups.h"
#include "tools/werkctl/info_summary.h"

namespace werk::ctl {

namespace {

class ServerGroup final : public CommandGroup {
 public:
  void Register(CLI::App& app, bool* json) override {
    json_ = json;
    info_ = app.add_subcommand("info", "print a summary of the server's INFO");
    info_->add_flag("--json", *json, "print the INFO document itself (JSON)");
    cron_ = app.add_subcommand(
        "cron", "list the cron entries: schedule, zone, next run, last fired tick and its jid");
    cron_->add_flag("--json", *json, "print INFO's cron block itself (JSON)");
    promote_ = app.add_subcommand(
        "promote", "make this server (a standby) the primary; prints the server's answer");
  }

  std::optional<int> Run(Session& s) override {
    if (info_->parsed()) return Info(s);
    if (cron_->parsed()) return Cron(s);
    if (promote_->parsed()) return Promote(s);
    return std::nullopt;
  }

 private:
  int Info(Session& s) {
    const std::optional<Reply> reply = ctl::Run(s, "INFO", {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    if (s.json) {
      PrintLine(reply->text);
      return 0;
    }
    auto summary = SummarizeInfo(reply->text);
    if (!summary.ok()) return Fail(s.address, std::string(summary.status().message()));
    std::fputs(summary->c_str(), stdout);
    return 0;
  }

  int Cron(Session& s) {
    const std::optional<Reply> reply = ctl::Run(s, "INFO", {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    auto out = s.json ? CronJson(reply->text) : FormatCronTable(reply->text);
    if (!out.ok()) return Fail(s.address, std::string(out.status().message()));
    if (s.json) {
      PrintLine(*out);
    } else {
      std::fputs(out->c_str(), stdout);
    }
    return 0;
  }

  // The server's answer is printed as it comes: what it says about a
  // promotion (success, or why not) reaches the operator as is; after a
  // success werkctl only adds what INFO then says.
  int Promote(Session& s) {
    const std::optional<Reply> reply =
        ctl::Run(s, "PROMOTE", {Reply::Type::kSimple, Reply::Type::kBulk, Reply::Type::kInteger});
    if (!reply) return kExitFailure;
    PrintLine(reply->text);
    // What the server is now (the promotion is done either way: a failure
    // here is only reported).
    const std::optional<Reply> info = ctl::Run(s, "INFO", {Reply::Type::kBulk});
    if (!info) return 0;
    auto role = DescribeRole(info->text);
    if (!role.ok()) {
      Fail(s.address, std::string(role.status().message()));
      return 0;
    }
    if (!role->empty()) PrintLine(s.address + " is now " + *role);
    return 0;
  }

  bool* json_ = nullptr;
  CLI::App* info_ = nullptr;
  CLI::App* cron_ = nullptr;
  CLI::App* promote_ = nullptr;
};

}  // namespace

std::unique_ptr<CommandGroup> ServerCommands() { return std::make_unique<ServerGroup>(); }

}  // namespace werk::ctl
