#pragma once
// Configuration from conf.d/*.toml and the environment, layered under the
// command-line flags (docs/configuration.md).

#include <optional>
#include <string>

#include <absl/status/status.h>

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
};

// Reads `<config_dir>/conf.d/*.toml` (alphabetical order, concatenated and
// parsed as one document, as Faktory does), FAKTORY_PASSWORD and
// FAKTORY_SKIP_PASSWORD. An error (kInvalidArgument) says what is wrong.
absl::Status LoadConfig(ServerOptions* options, const FlagsGiven& given);

// Parses --skip-record's "SHARD:LSN" (both decimal, LSN >= 1).
std::optional<ServerOptions::RecordRef> ParseRecordRef(const std::string& text);

// Splits "host:port" (":7419" = every interface, "[::1]:7419" for IPv6).
bool SplitHostPort(const std::string& binding, std::string* host, std::string* port);

}  // namespace werk::net
