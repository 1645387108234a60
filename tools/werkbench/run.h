#pragma once
// werkbench's run: its options, the state its client threads share, the
// jobs it pushes and recognises, and --rate's pacing.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace werk::bench {

using Clock = std::chrono::steady_clock;

inline uint64_t NowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      Clock::now().time_since_epoch())
                      .count());
}

struct Options {
  std::string scenario = "lifecycle";
  std::string host = "127.0.0.1";
  int port = 7419;
  std::string password;
  bool tls = false;  // TLS to the server (the CA from SSL_CERT_FILE)
  int connections = 64;
  int producers = 32;
  int workers = 32;
  int threads = 2;
  int pipeline = 1;
  int batch = 1000;
  uint64_t jobs = 100000;
  int args_bytes = 100;
  std::string queue;  // default: a fresh queue per run, removed at the end
  bool progress = false;
  bool keep = false;  // leave the jobs (and the queue) on the server
  double rate = 0;       // push: total requests/s across connections (0 = as fast as replies come)
  // "faktory" (werk, Faktory) or "redis": the same flows on Redis lists —
  // LPUSH to push, BLMOVE queue -> working to fetch, LREM from working to ack
  // (the reliable-queue pattern Redis-based job systems use).
  std::string protocol = "faktory";
  int lead_seconds = 0;  // schedule-burst: how far ahead the jobs are due (0 = estimated)
};

enum class Kind : uint8_t { kPush, kPushb, kFetch, kAck, kRaw, kFail };
constexpr int kKinds = 6;
constexpr const char* kKindNames[] = {"PUSH", "PUSHB", "FETCH", "ACK", "ECHO", "FAIL"};

// Shared run state.
struct Run {
  Options o;
  std::string run_id;
  std::string payload;  // args JSON
  std::atomic<uint64_t> next_job{0};     // producer claims
  std::atomic<uint64_t> pushed{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<bool> done{false};
  std::string extra_json;   // added to every job (e.g. "at", "retry")
  bool fail_mode = false;   // workers FAIL instead of ACK
  std::atomic<uint64_t> failed{0};
  std::unique_ptr<std::atomic<uint8_t>[]> delivered;  // per job index
  uint64_t target = 0;                                // jobs that must complete
};

inline std::string JobJson(const Run& r, uint64_t i) {
  std::string s = "{\"jid\":\"";
  s += r.run_id;
  s += '-';
  s += std::to_string(i);
  s += "\",\"jobtype\":\"Bench\",\"queue\":\"";
  s += r.o.queue;
  s += "\",\"args\":";
  s += r.payload;
  s += r.extra_json;
  s += '}';
  return s;
}

// Extracts the job index from a FETCH reply body: "jid":"<run>-<index>".
inline bool JobIndex(const Run& r, std::string_view body, uint64_t* index, std::string* jid) {
  const std::string key = "\"jid\":\"" + r.run_id + "-";
  const size_t at = body.find(key);
  if (at == std::string_view::npos) return false;
  size_t p = at + key.size();
  uint64_t v = 0;
  while (p < body.size() && body[p] >= '0' && body[p] <= '9') v = v * 10 + uint64_t(body[p++] - '0');
  *index = v;
  *jid = std::string(body.substr(at + 7, p - at - 7));
  return true;
}

// Pacing for --rate: a token bucket per client thread.
struct Pacer {
  double rate = 0;  // requests/s for this thread; 0 = unpaced
  double tokens = 0;
  uint64_t last_ns = 0;
  bool Take() {
    if (rate <= 0) return true;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
  void Refill(uint64_t now) {
    if (rate <= 0) return;
    if (last_ns) tokens = std::min(tokens + rate * double(now - last_ns) / 1e9, std::max(1.0, rate / 1000));
    last_ns = now;
  }
};

}  // namespace werk::bench
