#pragma once
// Everything an operator can set (docs/configuration.md). Filled from flags,
// conf.d/*.toml and the environment by net/config.{h,cc}.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/limits.h"
#include "wal/log_format.h"
#include "wal/standby_watch.h"

namespace werk::cron {
struct Table;  // cron/entry.h
}  // namespace werk::cron

namespace werk::net {

class TlsContext;  // net/tls_context.h

struct ServerOptions {
  std::string binding = "127.0.0.1:7419";
  std::string web_binding = "127.0.0.1:7420";
  std::string data_dir;
  std::string config_dir;
  std::string environment = "development";
  std::string log_level = "info";
  std::string password;  // empty = no authentication
  // [web] password: the web UI's, if it differs from the server's (empty:
  // the server's).
  std::string web_password;
  // Faktory's last resort outside development: when neither FAKTORY_PASSWORD
  // nor [faktory] password is set, this file (trimmed) holds the password if
  // it exists. Not a flag; tests point it elsewhere.
  std::string password_file_fallback = "/etc/faktory/password";

  size_t connections_max = core::kConnectionsDefault;
  // Sockets still in the handshake (not authenticated yet), server-wide;
  // when full, the oldest is closed to make room. 0: HandshakeConnectionsMax().
  size_t handshake_connections_max = 0;
  // From accept to a valid HELLO, however the bytes trickle in.
  int64_t handshake_timeout_s = core::kHandshakeTimeoutSeconds;
  // A connection without a wid that sends no complete command for this long
  // is closed; 0 disables it. Workers are judged by their BEATs instead.
  int64_t idle_timeout_s = core::kIdleTimeoutSecondsDefault;
  // A worker process that sends no BEAT for this long is dropped (Faktory: 60).
  int64_t heartbeat_timeout_s = core::kHeartbeatTimeoutSeconds;
  // Testing only: the floor a job's reserve_for is raised to at FETCH
  // (Faktory: 60), so tests can expire a reservation in seconds.
  int64_t reserve_for_min_s = core::kReserveForSecondsMin;
  size_t line_bytes_max = core::kLineBytesDefault;
  size_t job_bytes_max = core::kJobBytesDefault;
  // The [[cron]] entries of conf.d (docs/cron.md): never null after
  // LoadConfig, empty when there are none. Replaced whole on SIGHUP.
  std::shared_ptr<const cron::Table> cron;
  // TLS on the command port (net/tls_context.h): set by LoadConfig when the
  // config directory holds private.key.pem and public.cert.pem; null means
  // plaintext. Read-only and shared by every shard; the web server serves
  // the same key and certificate (its paths are in it).
  std::shared_ptr<const TlsContext> tls;
  // Shards (threads, each with its own io_uring, state and log). 0 = one per
  // core this process may run on.
  uint32_t shards = 0;
  // How long shutdown waits for in-flight replies before closing sockets.
  int shutdown_grace_ms = 3000;
  // Replication (docs/replication.md). A primary listens for its standby on
  // replication_binding (empty: no standby); a standby names its primary's
  // replication address in replica_of.
  std::string replication_binding;
  std::string replica_of;
  // What a primary's writes do when its standby is gone for
  // standby_timeout_ms (docs/replication.md): refused (required) or
  // acknowledged alone (degrade). The timeout is also how long a stopping
  // shard waits for the standby's acknowledgements.
  wal::StandbyPolicy standby_policy = wal::StandbyPolicy::kRequired;
  int64_t standby_timeout_ms = 10'000;
  // A standby whose log diverged from its primary's (a former primary
  // rejoining) drops its tail even when some of it may have been
  // acknowledged to clients (docs/replication.md "Rejoin").
  bool discard_diverged = false;

  // --- Write-ahead log ------------------------------------------------------
  // Cut a damaged log at the first bad byte instead of refusing to start.
  bool repair = false;
  // Records recovery skips instead of stopping on them (--skip-record
  // SHARD:LSN): for a record that does not apply to the recovered state.
  // Its effect is lost; logged loudly.
  struct RecordRef {
    uint32_t shard = 0;
    uint64_t lsn = 0;
    bool operator==(const RecordRef&) const = default;
  };
  std::vector<RecordRef> skip_records;
  // Development only: skip fdatasync. Survives a process crash, not a power
  // loss. Logged loudly; refused in production.
  bool unsafe_no_fsync = false;
  // Write segments with O_DIRECT + RWF_DSYNC (falls back to page-cache writes
  // + fdatasync where the file system refuses O_DIRECT).
  bool wal_direct_io = true;
  uint64_t segment_bytes = wal::kSegmentBytesDefault;
  uint64_t checkpoint_log_bytes = 64u << 20;
  int64_t checkpoint_interval_s = 600;
};

// The effective limit of sockets in the handshake: the option, or a quarter
// of connections_max but at least core::kHandshakeConnectionsMin.
inline size_t HandshakeConnectionsMax(const ServerOptions& o) {
  if (o.handshake_connections_max > 0) return o.handshake_connections_max;
  const size_t quarter = o.connections_max / 4;
  return quarter > core::kHandshakeConnectionsMin ? quarter : core::kHandshakeConnectionsMin;
}

}  // namespace werk::net
