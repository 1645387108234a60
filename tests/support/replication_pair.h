#pragma once
// A primary and its hot standby as real processes (tests/system/): starting
// them, the replication port a server reported, and waits on what INFO
// says. Each wait has a bound meant only to end a hang, never a timing
// assertion.

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {

// How long a wait goes on before it gives up (only to end a hang), and how
// often it looks.
inline constexpr std::chrono::seconds kWaitBound{60};
inline constexpr std::chrono::milliseconds kWaitStep{20};

// The replication port a primary reported in its log.
inline int ReplicationPort(const WerkdProcess& p) {
  const std::regex re("\\(replication port ([0-9]+)\\)");
  std::smatch m;
  const std::string log = p.log();
  if (!std::regex_search(log, m, re)) throw std::runtime_error("no replication port:\n" + log);
  return std::stoi(m[1]);
}

// A primary listening for a standby on a free port. Unless `extra` sets
// one, its standby timeout is long: a slow machine must not turn a write
// that waits for a standby still starting into an error.
using ConfigFiles = std::vector<std::pair<std::string, std::string>>;
inline std::unique_ptr<WerkdProcess> StartPrimary(std::vector<std::string> extra = {},
                                                  std::string data_dir = {},
                                                  ConfigFiles config_files = {}) {
  std::vector<std::string> args = {"--replication-bind", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (std::find(args.begin(), args.end(), "--standby-timeout") == args.end())
    args.insert(args.end(), {"--standby-timeout", "600"});
  return std::make_unique<WerkdProcess>(WerkdProcess::Options{
      .args = std::move(args), .config_files = std::move(config_files),
      .data_dir = std::move(data_dir)});
}

inline std::unique_ptr<WerkdProcess> StartStandby(int replication_port,
                                                  std::string data_dir = {},
                                                  std::vector<std::string> extra = {},
                                                  ConfigFiles config_files = {}) {
  std::vector<std::string> args = {"--replica-of",
                                   "127.0.0.1:" + std::to_string(replication_port)};
  args.insert(args.end(), extra.begin(), extra.end());
  // Whatever count the suite runs with: a standby takes its primary's.
  if (std::find(args.begin(), args.end(), "--shards") == args.end())
    args.insert(args.end(), {"--shards", "0"});
  return std::make_unique<WerkdProcess>(WerkdProcess::Options{
      .args = std::move(args), .config_files = std::move(config_files),
      .data_dir = std::move(data_dir)});
}

// `name` made into a jid long enough for Faktory's rule (at least 8 bytes).
inline std::string Push(const std::string& name, const std::string& queue = "default") {
  return R"(PUSH {"jid":"job-of-)" + name + R"(","jobtype":"T","args":[1],"queue":")" + queue +
         R"("})";
}

// The size of `queue` in INFO once it reaches `want` (nullopt if it never
// does within a bound meant only to end a hang).
inline std::optional<int> WaitQueueSize(int port, const std::string& queue, int want) {
  LineClient c = ReadyClient(port);
  const std::regex re("\"" + queue + "\":([0-9]+)");
  int last = -1;
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep)) {
    const std::string info = c.Call("INFO");
    std::smatch m;
    last = std::regex_search(info, m, re) ? std::stoi(m[1]) : 0;
    if (last == want) return last;
  }
  return last < 0 ? std::nullopt : std::optional<int>(last);
}

// Waits for `p` to exit by itself (a bound that only ends a hang).
inline bool Exited(WerkdProcess& p) {
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep))
    if (!p.Alive()) return true;
  return false;
}

// Every shard of the standby at `port` has a live session with the
// primary (false if not within a bound meant only to end a hang).
inline bool WaitAllLinked(int port) {
  LineClient c = ReadyClient(port);
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep)) {
    const std::string info = c.Call("INFO");
    if (info.find("\"linked\":false") == std::string::npos &&
        info.find("\"linked\":true") != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace werk::testing
