// werkstall: how long one long command holds the server (issue: no command
// stalls the server). Loads N jobs, then runs one long command on one
// connection while probe connections PUSH small jobs back to back, and
// prints one JSON line: the command's own time and the probes' latency while
// it ran (max, p99), against the same probes before it (the quiet baseline),
// and the longest a shard's loop was busy in one iteration meanwhile, as the
// server counts it (INFO's loop buckets: "4-8" ms), which the clients'
// own scheduling on a shared machine cannot blur.
//
//   werkstall --port 7419 --op flush        --jobs 1000000
//   werkstall --port 7419 --op mutate-glob  --jobs 1000000   (kill by a glob)
//   werkstall --port 7419 --op mutate-kill  --jobs 1000000   (kill every scheduled job)
//   werkstall --port 7419 --op queue-remove --jobs 1000000
//   werkstall --port 7419 --op pushb        --jobs 200000    (one PUSHB of N jobs)
//
// The probes are spread over connections so that every shard's partition of
// the probe queue is reached (a probe forwarded to a stalled shard waits too).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/support/line_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using werk::testing::LineClient;
using werk::testing::ReadyClient;

struct Options {
  int port = 7419;
  std::string op = "flush";
  uint64_t jobs = 1'000'000;
  int args_bytes = 100;
  int probes = 4;
  int timeout_s = 600;
};

std::string Job(const std::string& jid, const std::string& queue, const std::string& args,
                bool scheduled) {
  std::string j = R"({"jid":")" + jid + R"(","jobtype":"Stall","queue":")" + queue +
                  R"(","args":)" + args;
  if (scheduled) j += R"(,"at":"2100-01-01T00:00:00Z")";
  return j + "}";
}

std::string Batch(uint64_t from, uint64_t n, const std::string& queue, const std::string& args,
                  bool scheduled) {
  std::string b = "[";
  for (uint64_t i = from; i < from + n; ++i) {
    if (i > from) b += ',';
    b += Job("stall-" + std::to_string(1'000'000'000 + i), queue, args, scheduled);
  }
  return b + "]";
}

// One probe: when it was sent and when its reply came.
struct Probe {
  Clock::time_point start, end;
};

// The server's own count of loop iterations by busy time (INFO's
// werk.shards[].loop.busy_ms_buckets), summed over the shards.
std::vector<uint64_t> BusyBuckets(LineClient& c) {
  const std::string info = c.Call("INFO", 60'000);
  std::vector<uint64_t> sum;
  const std::string key = "\"busy_ms_buckets\":[";
  for (size_t at = info.find(key); at != std::string::npos; at = info.find(key, at + 1)) {
    size_t i = 0, pos = at + key.size();
    while (pos < info.size() && info[pos] != ']') {
      const size_t end = info.find_first_of(",]", pos);
      if (sum.size() <= i) sum.resize(i + 1);
      sum[i++] += std::stoull(info.substr(pos, end - pos));
      pos = info[end] == ',' ? end + 1 : end;
    }
  }
  return sum;
}

// "4-8" for the highest bucket that grew between `a` and `b` ("<1" for the
// first, "512+" for the last).
std::string WorstBusy(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  for (size_t i = b.size(); i-- > 0;) {
    if (b[i] <= (i < a.size() ? a[i] : 0)) continue;
    if (i == 0) return "<1";
    if (i + 1 == b.size()) return std::to_string(1 << (i - 1)) + "+";
    return std::to_string(1 << (i - 1)) + "-" + std::to_string(1 << i);
  }
  return "none";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"werkstall: the longest stall one long command causes"};
  app.add_option("--port", o.port, "server port");
  app.add_option("--op", o.op, "flush, mutate-glob, mutate-kill, queue-remove or pushb")
      ->check(CLI::IsMember({"flush", "mutate-glob", "mutate-kill", "queue-remove", "pushb"}));
  app.add_option("--jobs", o.jobs, "jobs the command acts on");
  app.add_option("--args-bytes", o.args_bytes, "size of each job's args");
  app.add_option("--probes", o.probes, "probe connections");
  CLI11_PARSE(app, argc, argv);
  const std::string args = "[\"" + std::string(size_t(std::max(0, o.args_bytes - 4)), 'x') + "\"]";
  const bool scheduled = o.op == "mutate-glob" || o.op == "mutate-kill";
  const std::string queue = "stall-q";
  try {
    LineClient loader = ReadyClient(o.port);
    loader.Call("QUEUE REMOVE stall-q stall-probe");
    const auto load_start = Clock::now();
    if (o.op != "pushb") {
      for (uint64_t i = 0; i < o.jobs; i += 1000) {
        const uint64_t n = std::min<uint64_t>(1000, o.jobs - i);
        const std::string r = loader.Call("PUSHB " + Batch(i, n, queue, args, scheduled), 60'000);
        if (r != "$2\r\n{}\r\n") throw std::runtime_error("PUSHB failed: " + r.substr(0, 200));
      }
    }
    const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
    std::string command;
    if (o.op == "flush") command = "FLUSH";
    if (o.op == "queue-remove") command = "QUEUE REMOVE " + queue;
    if (o.op == "mutate-kill") command = R"(MUTATE {"cmd":"kill","target":"scheduled"})";
    if (o.op == "mutate-glob")
      command = R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"regexp":"*Stall*xxxx*"}})";
    if (o.op == "pushb") command = "PUSHB " + Batch(0, o.jobs, queue, args, false);

    // Probes: back-to-back small PUSHes until told to stop. A probe counts
    // as "during" if it was in flight at any moment from the command's start
    // to 200 ms after its reply (the freeing that follows a FLUSH included).
    std::atomic<bool> stop{false};
    std::vector<std::vector<Probe>> probes(size_t(o.probes));
    std::vector<std::thread> threads;
    for (int p = 0; p < o.probes; ++p) {
      threads.emplace_back([&, p] {
        LineClient c = ReadyClient(o.port);
        for (uint64_t i = 0; !stop.load(); ++i) {
          const auto t0 = Clock::now();
          const std::string r = c.Call(
              "PUSH " + Job("probe-" + std::to_string(p) + "-" + std::to_string(i), "stall-probe",
                            "[]", false),
              o.timeout_s * 1000);
          if (r != "+OK\r\n") break;
          probes[size_t(p)].push_back({t0, Clock::now()});
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    LineClient runner = ReadyClient(o.port);
    const std::vector<uint64_t> busy_before = BusyBuckets(runner);
    const auto t0 = Clock::now();
    const std::string reply = runner.Call(command, o.timeout_s * 1000);
    const auto t1 = Clock::now();
    const double op_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto window_end = t1 + std::chrono::milliseconds(200);
    const std::vector<uint64_t> busy_after = BusyBuckets(runner);
    stop = true;
    for (auto& t : threads) t.join();
    std::vector<double> before, during;
    for (const auto& list : probes) {
      for (const Probe& pr : list) {
        const double ms = std::chrono::duration<double, std::milli>(pr.end - pr.start).count();
        if (pr.end >= t0 && pr.start <= window_end) during.push_back(ms);
        else if (pr.end < t0) before.push_back(ms);
      }
    }
    auto pct = [](std::vector<double> v, double q) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
    };
    auto max = [](const std::vector<double>& v) {
      return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
    };
    std::printf(
        "{\"op\":\"%s\",\"jobs\":%llu,\"load_s\":%.1f,\"op_ms\":%.1f,\"reply\":\"%s\","
        "\"probe_max_ms\":%.2f,\"probe_p99_ms\":%.2f,\"probes\":%zu,"
        "\"baseline_max_ms\":%.2f,\"baseline_p99_ms\":%.2f,\"server_busy_max_ms\":\"%s\"}\n",
        o.op.c_str(), (unsigned long long)o.jobs, load_s, op_ms,
        reply.substr(0, reply.find('\r')).c_str(), max(during), pct(during, 0.99), during.size(),
        max(before), pct(before, 0.99), WorstBusy(busy_before, busy_after).c_str());
    LineClient cleanup = ReadyClient(o.port);
    cleanup.Call("QUEUE REMOVE stall-q stall-probe", 60'000);
    if (scheduled) {
      cleanup.Call(R"(MUTATE {"cmd":"clear","target":"dead"})", 60'000);
      cleanup.Call(R"(MUTATE {"cmd":"clear","target":"scheduled"})", 60'000);
    }
    return reply.rfind("-ERR", 0) == 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "werkstall: %s\n", e.what());
    return 2;
  }
}
