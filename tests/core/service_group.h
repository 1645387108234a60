#pragma once
// A shard group for the job service's tests (core/job_service.h): shard
// runtimes on one ManualClock with in-memory journals, turned by the test's
// thread. No sockets.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/job_service.h"
#include "core/limits.h"
#include "core/mailbox.h"

namespace werk::core {

// The value of a Pending once the group turned: ready, or come back.
template <class T>
class Outcome {
 public:
  explicit Outcome(Pending<T> p) {
    if (p.ready()) {
      value_.emplace(std::move(p.value()));
    } else {
      p.Then([this](T v) { value_.emplace(std::move(v)); });
    }
  }
  Outcome(const Outcome&) = delete;
  bool has_value() const { return value_.has_value(); }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
};

// The turn a shard gives its service (net::Shard does the same in OnTurn).
class ServiceTurn final : public Participant {
 public:
  ServiceTurn(ShardRuntime* runtime, JobService* service) : runtime_(runtime), service_(service) {}
  void OnTurn() override {
    service_->fetcher().FireDeadlines(runtime_->mono_ms());
    service_->FireHeartbeats();
    service_->fetcher().ServeReady();
  }
  bool Quiescent() const override { return service_->fetcher().outstanding() == 0; }

 private:
  ShardRuntime* runtime_;
  JobService* service_;
};

struct Node {
  explicit Node(const Clock& clock)
      : runtime(clock, 64), partition(&runtime, PartitionOptions{}), service(&runtime, &partition),
        turn(&runtime, &service) {
    runtime.AttachJournal(&journal);
    runtime.AddParticipant(&turn);
  }
  VolatileJournal journal;
  ShardRuntime runtime;
  Partition partition;
  JobService service;
  ServiceTurn turn;
};

struct Waiter final : FetchWaiter {
  void OnFetched(FetchResult result) override { got.push_back(std::move(result)); }
  // The jid of the one answer, "" for "no job", "?" for anything else.
  std::string Jid() const {
    if (got.size() != 1 || !got[0].ok()) return "?";
    if (!got[0]->has_value()) return "";
    const std::string& json = **got[0];
    const size_t at = json.find("\"jid\":\"");
    return at == std::string::npos ? "?" : json.substr(at + 7, json.find('"', at + 7) - at - 7);
  }
  std::vector<FetchResult> got;
};

class ServiceGroupTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const int n = GetParam();
    mailbox_ = std::make_unique<Mailbox>(n);
    std::vector<ShardRuntime*> runtimes;
    std::vector<JobService*> services;
    for (int i = 0; i < n; ++i) {
      nodes_.push_back(std::make_unique<Node>(clock_));
      runtimes.push_back(&nodes_.back()->runtime);
      services.push_back(&nodes_.back()->service);
    }
    for (int i = 0; i < n; ++i) {
      nodes_[i]->runtime.JoinGroup(i, runtimes, mailbox_.get(), &stop_);
      nodes_[i]->service.JoinGroup(services);
    }
  }

  JobService& At(int shard) { return nodes_[shard]->service; }
  // A jid that shard `owner` owns.
  std::string JidOn(int owner, const std::string& prefix) {
    for (;; ++next_jid_) {
      std::string jid = prefix + "-" + std::to_string(100000 + next_jid_);
      if (int(At(0).OwnerOf(jid)) == owner) {
        ++next_jid_;
        return jid;
      }
    }
  }
  JobSpec Job(std::string jid, std::string queue) {
    JobSpec job;
    job.jid = std::move(jid);
    job.jobtype = "T";
    job.args_json = "[]";
    job.queue = std::move(queue);
    return job;
  }
  // Pushes through shard `via` a job owned by `owner`; returns its jid once
  // stored.
  std::string PushOn(int owner, const std::string& queue, int via = 0) {
    std::string jid = JidOn(owner, queue);
    Outcome<OpStatus> status(At(via).Push(Job(jid, queue)));
    Turn();
    EXPECT_TRUE(status.has_value() && status->ok());
    return jid;
  }
  // A few iterations of every shard: messages cross, hints settle.
  void Turn(int rounds = 4) {
    for (int r = 0; r < rounds; ++r)
      for (auto& n : nodes_) n->runtime.RunOnce(0);
  }
  int64_t Deadline() { return nodes_[0]->runtime.mono_ms() + kFetchBlockMillis; }

  int next_jid_ = 0;  // jids are never reused
  ManualClock clock_;
  std::unique_ptr<Mailbox> mailbox_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace werk::core
