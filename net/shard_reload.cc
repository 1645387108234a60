// The cron driver's place in a shard, and SIGHUP: reading conf.d again.

#include <spdlog/spdlog.h>

#include "net/config.h"
#include "net/shard.h"

namespace werk::net {

void Shard::EnableCron(std::shared_ptr<const cron::Table> table) {
  if (!table) return;
  cron_ = std::make_unique<cron::Driver>(&runtime_, &service_,
                                         core::JobLimits{options_.job_bytes_max});
  cron_->SetTable(std::move(table));
  runtime_.AddParticipant(cron_.get());
  group_->cron.store(cron_.get());
}

void Shard::ReloadConfig() {
  spdlog::info("SIGHUP: reading the configuration again");
  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const cron::Table>> table = LoadCronTable(
      options_.config_dir, core::JobLimits{options_.job_bytes_max}, &warnings);
  for (const std::string& w : warnings) spdlog::warn("{}", w);
  if (!table.ok()) {
    spdlog::error("SIGHUP: the configuration was not reloaded; the cron table in use stays: {}",
                  std::string(table.status().message()));
    return;
  }
  if (!cron_) {
    spdlog::warn("SIGHUP: this shard fires no cron table; nothing reloaded");
    return;
  }
  const size_t before = cron_->scheduler().table() ? cron_->scheduler().table()->entries.size() : 0;
  cron_->SetTable(*table);
  spdlog::info("SIGHUP: cron table reloaded: {} entries (was {}); other settings take effect "
               "at the next start",
               (*table)->entries.size(), before);
}

}  // namespace werk::net
