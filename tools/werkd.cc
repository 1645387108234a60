// werkd: the werk server.

#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "net/config.h"
#include "net/server.h"
#include "net/tls_context.h"
#include "net/version.h"

namespace {

std::string DefaultEnvironment() {
  const char* env = std::getenv("FAKTORY_ENV");
  return env && *env ? env : "development";
}

// `binding` with `port` instead of its own (a port 0 made the one bound).
std::string WithPort(const std::string& binding, int port) {
  std::string host, unused;
  if (!werk::net::SplitHostPort(binding, &host, &unused)) return binding;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

}  // namespace

int main(int argc, char** argv) {
  // Blocks of 4 MiB and more are mapped, never carved from the heap: a
  // command buffer growing to a 16 MiB line is realloc'ed by remapping, not
  // copied, and given back whole (glibc would otherwise raise the threshold
  // to the largest block freed so far). Lower, the buffers of every ordinary
  // PUSHB would be mapped and unmapped each time: 256 KiB made loading 1M
  // jobs in batches of 1,000 seven times slower.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  werk::net::ServerOptions o;
  o.environment = DefaultEnvironment();
  CLI::App app{"werk: a durable, Faktory-compatible background job server"};
  app.set_version_flag("-v,--version", std::string("werk ") + werk::net::kWerkVersion +
                                           " (Faktory protocol " +
                                           werk::net::kFaktoryProtocolVersion + ")");
  auto* b = app.add_option("-b,--binding", o.binding, "command port binding (host:port)");
  auto* w = app.add_option("-w,--web-binding", o.web_binding,
                           "web UI, /metrics, /health and /ready (host:port; :0 disables it)");
  app.add_option("-d,--data-dir", o.data_dir,
                 "data directory (default ./werk-data in development, /var/lib/faktory/db in "
                 "staging and production, as Faktory)");
  app.add_option("-c,--config-dir", o.config_dir,
                 "config directory holding conf.d/*.toml (default ./werk-config in development, "
                 "/etc/faktory in staging and production, as Faktory)");
  app.add_option("-e,--environment", o.environment, "development, staging or production");
  app.add_option("-l,--log-level", o.log_level, "error, warn, info or debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug", "trace"}));
  auto* cm = app.add_option("--connections-max", o.connections_max,
                            "client connections accepted at once")
                 ->check(CLI::PositiveNumber);
  auto* hm = app.add_option("--handshake-connections-max", o.handshake_connections_max,
                            "sockets not authenticated yet, server-wide; when full the oldest is "
                            "closed (default: a quarter of --connections-max, at least 256)")
                 ->check(CLI::PositiveNumber);
  auto* ht = app.add_option("--handshake-timeout", o.handshake_timeout_s,
                            "seconds from accept to a valid HELLO")
                 ->check(CLI::PositiveNumber);
  auto* it = app.add_option("--idle-timeout", o.idle_timeout_s,
                            "seconds a connection without a worker id may send no command before "
                            "it is closed (0: never)")
                 ->check(CLI::NonNegativeNumber);
  auto* bt = app.add_option("--heartbeat-timeout", o.heartbeat_timeout_s,
                            "seconds without a BEAT before a worker process is dropped")
                 ->check(CLI::PositiveNumber);
  app.add_option("--reserve-for-min", o.reserve_for_min_s,
                 "TESTING: the floor a job's reserve_for is raised to at FETCH, in seconds "
                 "(Faktory's is 60)")
      ->check(CLI::PositiveNumber);
  auto* lm = app.add_option("--line-bytes-max", o.line_bytes_max,
                            "longest command line accepted, in bytes (default 16 MiB, at most "
                            "256 MiB; a longer line closes the connection); [werk] line_bytes_max")
                 ->check(CLI::PositiveNumber);
  auto* jm = app.add_option("--job-bytes-max", o.job_bytes_max,
                            "largest job accepted, in bytes of its args, custom and other fields "
                            "(default 16 MiB, never above --line-bytes-max); [werk] job_bytes_max")
                 ->check(CLI::PositiveNumber);
  app.add_flag("--repair", o.repair,
               "cut a damaged write-ahead log at the first bad byte instead of refusing to "
               "start (loses every record after it; logged)");
  std::vector<std::string> skip_records;
  app.add_option("--skip-record", skip_records,
                 "SHARD:LSN — start without this logged record when it does not apply to the "
                 "recovered state (recovery names it; its effect is lost; repeatable)")
      ->check([](const std::string& v) -> std::string {
        return werk::net::ParseRecordRef(v) ? "" : "expected SHARD:LSN, e.g. 0:42";
      });
  app.add_flag("--unsafe-no-fsync", o.unsafe_no_fsync,
               "DEVELOPMENT ONLY: do not fdatasync the log (a power loss can lose acknowledged "
               "jobs); refused in production");
  auto* sh = app.add_option("--shards", o.shards,
                 "shards: threads with their own io_uring, state and log (0 = one per core)")
      ->check(CLI::Range(0, 64));
  bool buffered_io = false;
  app.add_flag("--wal-buffered-io", buffered_io,
               "write the log through the page cache + fdatasync instead of O_DIRECT");
  app.add_option("--segment-bytes", o.segment_bytes, "write-ahead log segment size")
      ->check(CLI::Range(uint64_t(1) << 16, uint64_t(1) << 34));
  app.add_option("--checkpoint-log-bytes", o.checkpoint_log_bytes,
                 "take a checkpoint after this much log (and at least twice the last "
                 "checkpoint's size)")
      ->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-interval", o.checkpoint_interval_s,
                 "take a checkpoint at least this often (seconds) when anything was logged")
      ->check(CLI::PositiveNumber);
  auto* ro = app.add_option("--replica-of", o.replica_of,
                            "run as the hot standby of the primary whose --replication-bind is "
                            "HOST:PORT (docs/replication.md); [werk] replica_of");
  auto* rb = app.add_option("--replication-bind", o.replication_binding,
                            "listen for a hot standby on HOST:PORT (off unless set; writes then "
                            "wait for the standby's acknowledgement; on a standby: once promoted); [werk] "
                            "replication_bind");
  std::string standby_policy = "required";
  auto* sp = app.add_option("--standby-policy", standby_policy,
                            "what a primary's writes do once its standby has not acknowledged "
                            "them for --standby-timeout: required (refused with an error until "
                            "it is back) or degrade (acknowledged alone); [werk] standby_policy")
                 ->check(CLI::IsMember({"required", "degrade"}));
  double standby_timeout_s = 10;
  auto* sto = app.add_option("--standby-timeout", standby_timeout_s,
                            "seconds a write waits for the standby before the policy applies "
                            "(default 10); [werk] standby_timeout")
                 ->check(CLI::Range(werk::net::kStandbyTimeoutMinS,
                                    werk::net::kStandbyTimeoutMaxS));
  auto* dd = app.add_flag("--discard-diverged", o.discard_diverged,
                          "a standby whose log diverged from its primary's drops its tail even "
                          "when some of it may have been acknowledged to clients (degrade mode, "
                          "or a promoted server); a copy is kept aside (docs/replication.md "
                          "\"Rejoin\"); [werk] discard_diverged");
  CLI11_PARSE(app, argc, argv);
  o.standby_policy = *werk::net::ParseStandbyPolicy(standby_policy);
  o.standby_timeout_ms = int64_t(standby_timeout_s * 1000);
  o.wal_direct_io = !buffered_io;
  for (const auto& v : skip_records) o.skip_records.push_back(*werk::net::ParseRecordRef(v));

  if (o.data_dir.empty()) o.data_dir = werk::net::DefaultDataDir(o.environment);
  if (o.config_dir.empty()) o.config_dir = werk::net::DefaultConfigDir(o.environment);

  spdlog::set_default_logger(spdlog::stderr_color_mt("werk"));
  spdlog::set_pattern("%L %Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(o.log_level));

  werk::net::FlagsGiven given;
  given.binding = b->count() > 0;
  given.web_binding = w->count() > 0;
  given.connections_max = cm->count() > 0;
  given.line_bytes_max = lm->count() > 0;
  given.job_bytes_max = jm->count() > 0;
  given.shards = sh->count() > 0;
  given.handshake_connections_max = hm->count() > 0;
  given.handshake_timeout = ht->count() > 0;
  given.idle_timeout = it->count() > 0;
  given.heartbeat_timeout = bt->count() > 0;
  given.replica_of = ro->count() > 0;
  given.replication_binding = rb->count() > 0;
  given.standby_policy = sp->count() > 0;
  given.standby_timeout = sto->count() > 0;
  given.discard_diverged = dd->count() > 0;
  if (o.unsafe_no_fsync && o.environment == "production") {
    spdlog::critical("--unsafe-no-fsync is refused in production");
    return 2;
  }
  std::vector<std::string> warnings;
  if (absl::Status st = werk::net::LoadConfig(&o, given, &warnings); !st.ok()) {
    spdlog::critical("{}", std::string(st.message()));
    return 2;
  }
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);
  spdlog::info("werk {} starting: environment {}, data {}, config {}{}", werk::net::kWerkVersion,
               o.environment, o.data_dir, o.config_dir,
               o.password.empty() ? ", no password" : ", password required");
  if (o.tls) {
    spdlog::info("TLS on the command port (TLS 1.2 and later only, no plaintext): certificate "
                 "{}, subject {}, valid until {}",
                 o.tls->cert_path(), o.tls->subject(), o.tls->not_after());
    if (o.tls->expired())
      spdlog::warn("the certificate in {} expired on {}: clients that check it will refuse "
                   "to connect",
                   o.tls->cert_path(), o.tls->not_after());
  }
  // A server may ask to be built again from the same options (a standby
  // that must cut its diverged log before it recovers: docs/replication.md
  // "Rejoin"). It comes back on the ports it bound, so that port 0 keeps
  // meaning the port clients were told.
  for (;;) {
    int rc = 0;
    int port = 0;
    int replication_port = 0;
    int web_port = 0;
    {
      werk::net::Server server(o);
      if (absl::Status st = server.Start(); !st.ok()) {
        spdlog::critical("{}", std::string(st.message()));
        return 1;
      }
      rc = server.Run();
      if (rc != 0 || !server.restart_requested()) return rc;
      port = server.port();
      replication_port = server.replication_port();
      web_port = server.web_port();
    }
    o.binding = WithPort(o.binding, port);
    if (web_port != 0) o.web_binding = WithPort(o.web_binding, web_port);
    if (!o.replication_binding.empty())
      o.replication_binding = WithPort(o.replication_binding, replication_port);
    spdlog::warn("werk starts again on {}{}", o.binding,
                 o.replication_binding.empty() ? std::string()
                                               : " (replication " + o.replication_binding + ")");
  }
}
