// werkctl: the operator's command-line tool for a werk server. It finds the
// server as Faktory clients do (tools/werkctl/server_url.h), connects as a
// producer, sends one command and prints the answer.
//
//   werkctl info            a summary of INFO: version, uptime, queues, totals
//   werkctl info --json     the INFO document as the server sent it
//   werkctl cron            the cron entries: schedule, zone, next run, last fired
//                           tick and its jid (INFO's cron block; --json for it as is)
//   werkctl promote         PROMOTE (a werk extension): make a standby the primary,
//                           then print what INFO says it is ("… is now the primary,
//                           epoch 3")
//   werkctl --url tcp://:PASSWORD@host:7419 info
//
// Exit status: 0 done; 1 the server could not be reached, refused the
// password, or answered with an error (one line on stderr naming the
// address); 2 usage errors: bad flags, a malformed URL.
//
// The server's answer to a command is printed as it comes: what the server
// says about a promotion (success, or why not) reaches the operator as is;
// after a success werkctl only adds what INFO then says.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "tools/werkctl/cron_table.h"
#include "tools/werkctl/faktory_client.h"
#include "tools/werkctl/info_summary.h"
#include "tools/werkctl/server_url.h"

namespace {

using werk::ctl::FaktoryClient;
using werk::ctl::Reply;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const std::string& address, const std::string& message) {
  std::fprintf(stderr, "werkctl: %s: %s\n", address.c_str(), message.c_str());
  return kExitFailure;
}

void PrintLine(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  if (text.empty() || text.back() != '\n') std::fputc('\n', stdout);
}

// Sends `command` and returns its reply if it is one of `expected`; else
// reports the server's error (or the unexpected reply) and returns nullopt.
std::optional<Reply> Run(FaktoryClient& client, const std::string& address,
                         const std::string& command, std::initializer_list<Reply::Type> expected) {
  auto reply = client.Call(command);
  if (!reply.ok()) {
    Fail(address, command + ": " + std::string(reply.status().message()));
    return std::nullopt;
  }
  if (reply->type == Reply::Type::kError) {
    Fail(address, "the server refused " + command + ": " + reply->text);
    return std::nullopt;
  }
  for (const Reply::Type t : expected)
    if (reply->type == t) return std::move(*reply);
  Fail(address, "unexpected reply to " + command + ": \"" + reply->text.substr(0, 200) + "\"");
  return std::nullopt;
}

int Info(FaktoryClient& client, const std::string& address, bool json) {
  const std::optional<Reply> reply = Run(client, address, "INFO", {Reply::Type::kBulk});
  if (!reply) return kExitFailure;
  if (json) {
    PrintLine(reply->text);
    return 0;
  }
  auto summary = werk::ctl::SummarizeInfo(reply->text);
  if (!summary.ok()) return Fail(address, std::string(summary.status().message()));
  std::fputs(summary->c_str(), stdout);
  return 0;
}

int Cron(FaktoryClient& client, const std::string& address, bool json) {
  const std::optional<Reply> reply = Run(client, address, "INFO", {Reply::Type::kBulk});
  if (!reply) return kExitFailure;
  auto out = json ? werk::ctl::CronJson(reply->text) : werk::ctl::FormatCronTable(reply->text);
  if (!out.ok()) return Fail(address, std::string(out.status().message()));
  if (json) {
    PrintLine(*out);
  } else {
    std::fputs(out->c_str(), stdout);
  }
  return 0;
}

int Promote(FaktoryClient& client, const std::string& address) {
  const std::optional<Reply> reply =
      Run(client, address, "PROMOTE",
          {Reply::Type::kSimple, Reply::Type::kBulk, Reply::Type::kInteger});
  if (!reply) return kExitFailure;
  PrintLine(reply->text);
  // What the server is now, as its INFO says (the promotion is done either
  // way: a failure here is only reported).
  const std::optional<Reply> info = Run(client, address, "INFO", {Reply::Type::kBulk});
  if (!info) return 0;
  auto role = werk::ctl::DescribeRole(info->text);
  if (!role.ok()) {
    Fail(address, std::string(role.status().message()));
    return 0;
  }
  if (!role->empty()) PrintLine(address + " is now " + *role);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
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
  CLI::App* info = app.add_subcommand("info", "print a summary of the server's INFO");
  info->add_flag("--json", json, "print the INFO document itself (JSON)");
  CLI::App* cron = app.add_subcommand(
      "cron", "list the cron entries: schedule, zone, next run, last fired tick and its jid");
  cron->add_flag("--json", json, "print INFO's cron block itself (JSON)");
  CLI::App* promote = app.add_subcommand(
      "promote", "make this server (a standby) the primary; prints the server's answer");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  auto server = werk::ctl::ResolveServer(url, werk::ctl::GetEnv);
  if (!server.ok()) {
    std::fprintf(stderr, "werkctl: %s\n", std::string(server.status().message()).c_str());
    return kExitUsage;
  }
  const std::string address = server->url.Address();
  const auto timeout = std::chrono::milliseconds(std::llround(timeout_s * 1000));
  auto client = FaktoryClient::Connect(server->url, timeout);
  if (!client.ok()) {
    const std::string from = server->source == "the default"
                                 ? " (the default: set FAKTORY_URL or --url)"
                                 : " (from " + server->source + ")";
    return Fail(address + from, std::string(client.status().message()));
  }
  int status = kExitFailure;
  if (info->parsed()) status = Info(*client, address, json);
  if (cron->parsed()) status = Cron(*client, address, json);
  if (promote->parsed()) status = Promote(*client, address);
  client->End();
  return status;
}
