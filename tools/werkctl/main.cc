// werkctl: the operator's command-line tool for a werk server. It finds the
// server as Faktory clients do (tools/werkctl/server_url.h), connects as a
// producer, sends its commands and prints the answers: tables for people,
// the server's JSON with --json for scripts. docs/running.md "werkctl" has
// every subcommand with an example:
//
//   info, cron, promote                      server_commands.cc
//   queues, pause|resume|clear QUEUE         queue_commands.cc
//   jobs retries|scheduled|dead|queue NAME, job JID,
//   retry|kill|delete JID...                 job_commands.cc
//   workers, quiet|terminate WID|all         worker_commands.cc
//   wal dump|verify PATH (no server)         wal_commands.cc
//
// Exit status: 0 done; 1 the server could not be reached, refused the
// password, or answered with an error (one line on stderr naming the
// address); 2 usage errors: bad flags, a malformed URL.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/werkctl/faktory_client.h"
#include "tools/werkctl/groups.h"
#include "tools/werkctl/server_url.h"

int main(int argc, char** argv) {
  using namespace werk::ctl;
  CLI::App app{"werkctl: operate a werk server (finds it through --url, FAKTORY_PROVIDER, "
               "FAKTORY_URL and FAKTORY_PASSWORD, as Faktory clients do)"};
  app.require_subcommand(1);
  // Global options may follow the subcommand too: `werkctl info --url …`.
  app.fallthrough();
  std::string url;
  double timeout_s = 5;
  app.add_option("--url", url,
                 "server URL, tcp://[:PASSWORD@]HOST[:PORT] (default: $FAKTORY_URL, else "
                 "tcp://localhost:7419)");
  app.add_option("--timeout", timeout_s, "seconds allowed for connecting and for each reply")
      ->check(CLI::Range(0.001, 86400.0));
  bool json = false;
  std::vector<std::unique_ptr<CommandGroup>> groups;
  groups.push_back(ServerCommands());
  groups.push_back(QueueCommands());
  groups.push_back(JobCommands());
  groups.push_back(WorkerCommands());
  groups.push_back(WalCommands());
  for (auto& g : groups) g->Register(app, &json);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  Session session;
  session.json = json;
  for (auto& g : groups) {
    if (!g->Offline()) continue;
    if (std::optional<int> status = g->Run(session)) return *status;
  }

  auto server = ResolveServer(url, GetEnv);
  if (!server.ok()) {
    std::fprintf(stderr, "werkctl: %s\n", std::string(server.status().message()).c_str());
    return kExitUsage;
  }
  session.address = server->url.Address();
  const auto timeout = std::chrono::milliseconds(std::llround(timeout_s * 1000));
  auto client = FaktoryClient::Connect(server->url, timeout);
  if (!client.ok()) {
    const std::string from = server->source == "the default"
                                 ? " (the default: set FAKTORY_URL or --url)"
                                 : " (from " + server->source + ")";
    return Fail(session.address + from, std::string(client.status().message()));
  }
  session.client = &*client;
  int status = kExitFailure;
  for (auto& g : groups) {
    if (g->Offline()) continue;
    if (std::optional<int> s = g->Run(session)) {
      status = *s;
      break;
    }
  }
  client->End();
  return status;
}
