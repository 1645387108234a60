// Many producers and consumers over TCP against werkd with several shards:
// jobs pushed to any shard (PUSH and PUSHB), fetched by workers on any shard
// with their own queue orders, ACKed or FAILed (and discarded), while another client
// pauses and resumes a queue and reads INFO. Every job must be delivered
// exactly once, and the server's counters must agree with the clients'.
// WERK_STRESS_JOBS sets the jobs per producer (default 2500).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "tests/support/line_client.h"
#include "tests/support/reply_parser.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

constexpr int kProducers = 4;
constexpr int kConsumers = 6;
constexpr int kQueues = 4;

int JobsPerProducer() {
  const char* env = std::getenv("WERK_STRESS_JOBS");
  return env ? std::max(10, std::atoi(env)) : 2500;
}

std::string JobJson(const std::string& jid, int queue, bool doomed) {
  return R"({"jid":")" + jid + R"(","jobtype":")" + (doomed ? "Doomed" : "Work") +
         R"(","queue":"q)" + std::to_string(queue) + R"(","args":[1],"retry":0})";
}

struct Ledger {
  std::mutex mu;
  std::unordered_map<std::string, int> delivered;  // jid -> times fetched
  int64_t pushed = 0, doomed = 0;
  std::vector<std::string> errors;
  void Error(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    if (errors.size() < 20) errors.push_back(e.substr(0, 300));
  }
};

// Pushes its jobs in batches of 50: one PUSHB, 50 pipelined PUSHes, or 50
// PUSHes one by one, in turn.
// One job in ten is doomed: its worker FAILs it and, with retry 0, it is
// discarded (as Faktory does).
void Produce(int port, int p, int jobs, Ledger* ledger) {
  try {
    LineClient c = ReadyClient(port);
    int n = 0, batch = 0;
    while (n < jobs) {
      const int count = std::min(50, jobs - n);
      int doomed = 0;
      if (batch++ % 3 == 0) {
        std::string line = "PUSHB [";
        for (int k = 0; k < count; ++k, ++n) {
          const bool d = n % 10 == 7;
          doomed += d;
          if (k) line += ",";
          line += JobJson("stress-p" + std::to_string(p) + "-" + std::to_string(n), n % kQueues, d);
        }
        const std::string r = c.Call(line + "]", 30000);
        if (r != "$2\r\n{}\r\n") return ledger->Error("PUSHB: " + r);
      } else if (batch % 3 == 2) {
        // Pipelined: the whole batch in one write, then the replies in order
        // (the PUSHes for other shards are forwarded while the rest run).
        std::string lines;
        for (int k = 0; k < count; ++k, ++n) {
          const bool d = n % 10 == 7;
          doomed += d;
          lines += "PUSH " +
                   JobJson("stress-p" + std::to_string(p) + "-" + std::to_string(n), n % kQueues, d) +
                   "\r\n";
        }
        c.Send(lines);
        for (int k = 0; k < count; ++k) {
          const auto r = c.Read(30000);
          if (!r || *r != "+OK\r\n") return ledger->Error("pipelined PUSH: " + r.value_or("<none>"));
        }
      } else {
        for (int k = 0; k < count; ++k, ++n) {
          const bool d = n % 10 == 7;
          doomed += d;
          const std::string r = c.Call(
              "PUSH " + JobJson("stress-p" + std::to_string(p) + "-" + std::to_string(n), n % kQueues, d),
              30000);
          if (r != "+OK\r\n") return ledger->Error("PUSH: " + r);
        }
      }
      std::lock_guard<std::mutex> l(ledger->mu);
      ledger->pushed += count;
      ledger->doomed += doomed;
    }
  } catch (const std::exception& e) {
    ledger->Error(std::string("producer: ") + e.what());
  }
}

void Consume(int port, int w, Ledger* ledger, std::atomic<bool>* done) {
  try {
    LineClient c = ReadyClient(port);
    // Each worker its own queue order.
    std::string fetch = "FETCH";
    for (int q = 0; q < kQueues; ++q) fetch += " q" + std::to_string((q + w) % kQueues);
    while (!done->load()) {
      const std::string r = c.Call(fetch, 30000);
      if (r == "$-1\r\n") continue;  // waited 2 s for nothing
      if (r.rfind("$", 0) != 0) return ledger->Error("FETCH: " + r);
      const std::string body = BulkBody(r);
      const size_t at = body.find("\"jid\":\"");
      if (at == std::string::npos) return ledger->Error("FETCH without jid: " + body);
      const std::string jid = body.substr(at + 7, body.find('"', at + 7) - at - 7);
      {
        std::lock_guard<std::mutex> l(ledger->mu);
        ++ledger->delivered[jid];
      }
      const bool doomed = body.find("\"jobtype\":\"Doomed\"") != std::string::npos;
      const std::string a =
          doomed ? c.Call(R"(FAIL {"jid":")" + jid + R"(","errtype":"E","message":"doomed"})", 30000)
                 : c.Call(R"(ACK {"jid":")" + jid + R"("})", 30000);
      if (a != "+OK\r\n") return ledger->Error((doomed ? "FAIL: " : "ACK: ") + a);
    }
  } catch (const std::exception& e) {
    ledger->Error(std::string("consumer: ") + e.what());
  }
}

// Pauses and resumes q1 and reads INFO while the others work.
void Meddle(int port, Ledger* ledger, std::atomic<bool>* done) {
  try {
    LineClient c = ReadyClient(port);
    for (int i = 0; !done->load(); ++i) {
      const std::string r = c.Call(i % 2 ? "QUEUE RESUME q1" : "QUEUE PAUSE q1", 30000);
      if (r != "+OK\r\n") return ledger->Error("QUEUE: " + r);
      if (c.Call("INFO", 30000).rfind("$", 0) != 0) return ledger->Error("INFO failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (c.Call("QUEUE RESUME q1", 30000) != "+OK\r\n") ledger->Error("final RESUME failed");
  } catch (const std::exception& e) {
    ledger->Error(std::string("meddler: ") + e.what());
  }
}

int64_t InfoNumber(const std::string& info, const std::string& key) {
  const size_t at = info.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(info.substr(at + key.size() + 3));
}

TEST(StressTest, ManyProducersAndConsumersAcrossShardsNoLossNoDoubleDelivery) {
  WerkdProcess server({.args = {"--shards", "4"}});
  const int jobs = JobsPerProducer();
  const int64_t total = int64_t(jobs) * kProducers;
  Ledger ledger;
  std::atomic<bool> done{false}, meddling_done{false};
  std::vector<std::thread> consumers, producers;
  for (int w = 0; w < kConsumers; ++w)
    consumers.emplace_back(Consume, server.port(), w, &ledger, &done);
  std::thread meddler(Meddle, server.port(), &ledger, &meddling_done);
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back(Produce, server.port(), p, jobs, &ledger);
  for (auto& t : producers) t.join();
  meddling_done = true;
  meddler.join();
  // Wait (bounded) until every job was delivered or something went wrong.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> l(ledger.mu);
      if (!ledger.errors.empty() || int64_t(ledger.delivered.size()) >= ledger.pushed) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  done = true;
  for (auto& t : consumers) t.join();

  for (const auto& e : ledger.errors) ADD_FAILURE() << e;
  ASSERT_EQ(ledger.pushed, total);
  EXPECT_EQ(int64_t(ledger.delivered.size()), total) << "jobs never delivered";
  int64_t twice = 0;
  for (const auto& [jid, n] : ledger.delivered) twice += n > 1;
  EXPECT_EQ(twice, 0) << "jobs delivered more than once";

  LineClient c = ReadyClient(server.port());
  const std::string info = BulkBody(c.Call("INFO"));
  EXPECT_EQ(InfoNumber(info, "total_enqueued"), 0) << info;
  EXPECT_EQ(InfoNumber(info, "total_processed"), total) << info;
  EXPECT_EQ(InfoNumber(info, "total_failures"), ledger.doomed) << info;
  EXPECT_EQ(InfoNumber(info, "dead"), 0) << info;
  EXPECT_EQ(InfoNumber(info, "retries"), 0) << info;
  EXPECT_EQ(InfoNumber(info, "working"), 0) << info;
}

}  // namespace
}  // namespace werk::testing
