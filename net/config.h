#pragma once
// Configuration from conf.d/*.toml and the environment, layered under the
// command-line flags (docs/configuration.md).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/job_validation.h"
#include "cron/entry.h"
#include "net/server_options.h"

namespace werk::net {

// Which options the command line set explicitly (flags win over TOML).
struct FlagsGiven {
  bool binding = false;
  bool web_binding = false;
  bool connections_max = false;
  bool line_bytes_max = false;
  bool job_bytes_max = false;
  bool shards = false;
  bool handshake_connections_max = false;
  bool handshake_timeout = false;
  bool idle_timeout = false;
  bool heartbeat_timeout = false;
  bool replica_of = false;
  bool replication_binding = false;
  bool standby_policy = false;
  bool standby_timeout = false;
  bool discard_diverged = false;
};

// Faktory's directories outside development (staging, production); in
// development werk keeps its own next to the working directory.
inline constexpr char kFaktoryDataDir[] = "/var/lib/faktory/db";
inline constexpr char kFaktoryConfigDir[] = "/etc/faktory";
inline constexpr char kDevelopmentDataDir[] = "werk-data";
inline constexpr char kDevelopmentConfigDir[] = "werk-config";

// The data and config directories used when -d / -c are not given.
std::string DefaultDataDir(const std::string& environment);
std::string DefaultConfigDir(const std::string& environment);

// The replication settings agree with each other and with the password.
absl::Status CheckReplication(const ServerOptions& o);
// "required" or "degrade" (--standby-policy, [werk] standby_policy).
std::optional<wal::StandbyPolicy> ParseStandbyPolicy(std::string_view name);
// --standby-timeout and [werk] standby_timeout, in seconds.
inline constexpr double kStandbyTimeoutMinS = 0.1;
inline constexpr double kStandbyTimeoutMaxS = 3600;

// Reads `<config_dir>/conf.d/*.toml` (alphabetical order, concatenated and
// parsed as one document, as Faktory does), FAKTORY_PASSWORD,
// FAKTORY_SKIP_PASSWORD and, outside development when neither sets a
// password, options->password_file_fallback. An error (kInvalidArgument) says
// what is wrong. Whatever is configured but not acted on (tables werk does
// not implement, such as [statsd], unknown keys in [faktory] and [web]) is
// not an error: each gets a line in `warnings`, naming the file it came from,
// for the caller to log. [[cron]] is loaded into options->cron (with the
// job limits just read); an entry werk cannot run refuses the start.
absl::Status LoadConfig(ServerOptions* options, const FlagsGiven& given,
                        std::vector<std::string>* warnings = nullptr);

// The [[cron]] entries of `<config_dir>/conf.d/*.toml`, read as LoadConfig
// reads them: for SIGHUP, which replaces the table whole or, on an error,
// keeps the one it has. No conf.d: an empty table. The table's warnings are
// appended to `warnings`.
absl::StatusOr<std::shared_ptr<const cron::Table>> LoadCronTable(
    const std::string& config_dir, const core::JobLimits& limits,
    std::vector<std::string>* warnings);

// Faktory: a password value starting with '/' names a file holding the
// password (trimmed); any other value is the password itself. Used for
// FAKTORY_PASSWORD and [faktory] password, and by werkctl for the same
// variable. kInvalidArgument naming the file when it cannot be read.
absl::StatusOr<std::string> ResolvePassword(const std::string& value);

// Parses --skip-record's "SHARD:LSN" (both decimal, LSN >= 1).
std::optional<ServerOptions::RecordRef> ParseRecordRef(const std::string& text);

// Splits "host:port" (":7419" = every interface, "[::1]:7419" for IPv6).
bool SplitHostPort(const std::string& binding, std::string* host, std::string* port);

}  // namespace werk::net
