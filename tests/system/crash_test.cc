// kill -9 of the real server under concurrent push/fetch/ack load, many
// times over the same data directory, with 1 to 4 shards (invariants I1 and
// I2 on a real disk).
// After each crash the log is recovered offline and checked against what
// clients were told: every push that got +OK is still there or an ACK was
// sent for it,
// and no job whose ACK got +OK exists again. WERK_CRASH_ROUNDS sets the
// number of rounds (default 15).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/mutation.h"
#include "core/state_machine.h"
#include "net/shard_storage.h"
#include "tests/support/line_client.h"
#include "tests/support/reply_parser.h"
#include "tests/support/werkd_process.h"
#include "wal/recovery.h"
#include "wal/uring_storage.h"

namespace werk::testing {
namespace {

struct Ledger {
  std::mutex mu;
  std::set<std::string> pushed;  // got +OK
  std::set<std::string> ack_sent;  // an ACK went out (it may have become durable)
  std::set<std::string> acked;     // ACK got +OK
};

void Producer(int port, const std::string& prefix, Ledger* ledger, std::atomic<bool>* stop) {
  try {
    LineClient c(port);
    if (!c.Read(2000)) return;
    if (c.Call(R"(HELLO {"v":2})", 2000) != "+OK\r\n") return;
    for (int i = 0; !stop->load(); ++i) {
      const std::string jid = prefix + "-" + std::to_string(i);
      if (!c.TrySend(R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","queue":"crash","args":[1]})" + "\r\n"))
        return;
      auto r = c.Read(3000);
      if (!r) return;
      if (*r == "+OK\r\n") {
        std::lock_guard<std::mutex> l(ledger->mu);
        ledger->pushed.insert(jid);
      }
    }
  } catch (...) {
  }
}

void Worker(int port, Ledger* ledger, std::atomic<bool>* stop) {
  try {
    LineClient c(port);
    if (!c.Read(2000)) return;
    if (c.Call(R"(HELLO {"v":2})", 2000) != "+OK\r\n") return;
    while (!stop->load()) {
      if (!c.TrySend("FETCH crash\r\n")) return;
      auto r = c.Read(3000);
      if (!r) return;
      const size_t at = r->find("\"jid\":\"");
      if (at == std::string::npos) continue;
      const std::string jid = r->substr(at + 7, r->find('"', at + 7) - at - 7);
      {
        std::lock_guard<std::mutex> l(ledger->mu);
        ledger->ack_sent.insert(jid);
      }
      if (!c.TrySend(R"(ACK {"jid":")" + jid + "\"}\r\n")) return;
      auto a = c.Read(3000);
      if (!a) return;
      if (*a == "+OK\r\n") {
        std::lock_guard<std::mutex> l(ledger->mu);
        ledger->acked.insert(jid);
      }
    }
  } catch (...) {
  }
}

// Recovers one shard's log offline, as werkd would at start.
std::unique_ptr<core::StateMachine> RecoverShard(const std::string& data_dir, uint32_t shard,
                                                 std::string* error) {
  auto storage = wal::UringStorage::Open(net::ShardLogDir(data_dir, shard), nullptr, {});
  if (!storage.ok()) {
    *error = std::string(storage.status().message());
    return nullptr;
  }
  auto sm = std::make_unique<core::StateMachine>(0);
  wal::RecoverySinks sinks;
  sinks.item = [&](core::SnapshotItemType t, std::string_view b) { return sm->RestoreItem(t, b); };
  sinks.items_done = [&] { sm->FinishRestore(); };
  uint64_t bad = 0;
  sinks.record = [&](core::Lsn, std::string_view body) {
    auto m = core::DecodeMutation(body);
    if (!m || sm->Apply(*m) != absl::OkStatus()) ++bad;
    return absl::OkStatus();
  };
  wal::RecoveryOptions ro;
  ro.shard = shard;
  auto r = wal::Recover(**storage, ro, sinks);
  if (!r.ok()) {
    *error = std::string(r.status().message());
    return nullptr;
  }
  if (bad) {
    *error = std::to_string(bad) + " records did not replay";
    return nullptr;
  }
  return sm;
}

// Every shard's state.
struct Recovered {
  std::vector<std::unique_ptr<core::StateMachine>> shards;
  bool Has(const std::string& jid) const {
    for (const auto& sm : shards)
      if (sm->FindJob(jid)) return true;
    return false;
  }
};

bool RecoverOffline(const std::string& data_dir, Recovered* out, std::string* error) {
  const uint32_t n = net::CountShardDirs(data_dir);
  if (n == 0) {
    *error = "no shard logs";
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    auto sm = RecoverShard(data_dir, i, error);
    if (!sm) return false;
    out->shards.push_back(std::move(sm));
  }
  return true;
}

TEST(CrashTest, KillNineUnderLoadLosesNothingAcknowledged) {
  const char* env = std::getenv("WERK_CRASH_ROUNDS");
  const int rounds = env ? std::atoi(env) : 15;
  char tmpl[] = "/tmp/werk-crash-XXXXXX";
  const std::string data_dir = std::string(::mkdtemp(tmpl)) + "/data";
  std::mt19937 rng(12345);
  Ledger ledger;
  uint64_t lost = 0, resurrected = 0, recycled_seen = 0;
  // The shard count changes from round to round: each start re-partitions
  // the log a kill -9 left behind, and jobs cross shards under load.
  const int kShards[] = {1, 2, 4, 3};
  for (int round = 0; round < rounds; ++round) {
    // Small checkpoints and segments, so crashes also hit checkpointing,
    // segment rotation and recycled segments (the count is kept for three
    // rounds, so logs grow across kills before the next re-partition).
    WerkdProcess server({.args = {"--checkpoint-log-bytes", "65536", "--segment-bytes", "131072",
                                  "--shards", std::to_string(kShards[(round / 3) % 4])},
                         .data_dir = data_dir});
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int p = 0; p < 4; ++p)
      threads.emplace_back(Producer, server.port(),
                           "r" + std::to_string(round) + "p" + std::to_string(p), &ledger, &stop);
    for (int w = 0; w < 4; ++w) threads.emplace_back(Worker, server.port(), &ledger, &stop);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 800));
    {
      // Segments reused so far in this life: the next start reads logs whose
      // files hold stale bytes of an earlier use.
      LineClient c(server.port());
      c.ReadOrFail();
      c.Call(R"(HELLO {"v":2})");
      const std::string info = BulkBody(c.Call("INFO"));
      for (size_t at = 0; (at = info.find("\"segments_recycled\":", at)) != std::string::npos;) {
        at += 20;
        recycled_seen += std::strtoull(info.c_str() + at, nullptr, 10);
      }
    }
    server.KillNine();
    stop = true;
    for (auto& t : threads) t.join();

    std::string error;
    Recovered sm;
    ASSERT_TRUE(RecoverOffline(data_dir, &sm, &error)) << "round " << round << ": " << error;
    std::lock_guard<std::mutex> l(ledger.mu);
    for (const auto& jid : ledger.pushed) {
      // Gone is fine only if an ACK for it was sent (whose +OK the crash
      // may have swallowed after the record became durable).
      if (!ledger.ack_sent.count(jid) && !sm.Has(jid)) {
        if (lost++ < 5) ADD_FAILURE() << "round " << round << ": acknowledged push lost: " << jid;
      }
    }
    for (const auto& jid : ledger.acked) {
      if (sm.Has(jid)) {
        if (resurrected++ < 5) ADD_FAILURE() << "round " << round << ": ACKed job is back: " << jid;
      }
    }
  }
  // The real binary recovers the same state and serves (re-partitioning to
  // two shards if the last round had another count).
  WerkdProcess server({.args = {"--shards", "2"}, .data_dir = data_dir});
  LineClient c(server.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  EXPECT_EQ(c.Call(R"(PUSH {"jid":"after-crashes","jobtype":"T","args":[]})"), "+OK\r\n");
  std::printf("crash test: %d rounds of kill -9, %zu pushes and %zu ACKs acknowledged, %llu "
              "recycled segments seen; lost %llu, resurrected %llu\n",
              rounds, ledger.pushed.size(), ledger.acked.size(),
              (unsigned long long)recycled_seen, (unsigned long long)lost,
              (unsigned long long)resurrected);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(resurrected, 0u);
  // With this much log, covered segments were kept for reuse at some kill.
  if (ledger.pushed.size() > 20000) {
    EXPECT_GT(recycled_seen, 0u);
  }
  server.Stop();
  std::filesystem::remove_all(std::filesystem::path(data_dir).parent_path());
}

}  // namespace
}  // namespace werk::testing
