#include "net/replication_connector.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "net/blocking_link.h"

namespace werk::net {

namespace {

int64_t NowMs() { return core::SystemClock::Instance().MonotonicNow() / core::kNanosPerMilli; }

constexpr int64_t kRelogMs = 30'000;

// Runs the standby's handshake over `fd` until WELCOME (or a refusal).
absl::Status Handshake(int fd, StandbyHandshake& hs, int64_t timeout_ms, std::string* rest) {
  BlockingLink link(fd, timeout_ms);
  std::string out;
  hs.Start(out);
  if (auto st = link.Send(out); !st.ok()) return st;
  while (!hs.done()) {
    auto m = link.Next();
    if (!m.ok()) return m.status();
    out.clear();
    absl::Status st = hs.OnMessage(*m, out);
    if (!st.ok()) return st;
    if (!out.empty())
      if (auto sent = link.Send(out); !sent.ok()) return sent;
  }
  *rest = link.TakeRest();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProvenPrimary> ConnectToPrimary(const ConnectSettings& settings, uint32_t shard,
                                               StandbyPosition position, core::Epoch epoch) {
  auto fd = ConnectTcp(settings.primary, settings.timeout_ms);
  if (!fd.ok()) return fd.status();
  UniqueFd owned(*fd);
  StandbyHandshake hs(settings.password, settings.cluster_id, shard, settings.shard_count,
                      position, epoch);
  std::string rest;
  if (auto st = Handshake(owned.get(), hs, settings.timeout_ms, &rest); !st.ok()) return st;
  return ProvenPrimary{std::move(owned), hs.welcome(), hs.primary_epoch(), std::move(rest)};
}

absl::StatusOr<PrimaryShape> ProbePrimary(const ConnectSettings& settings) {
  auto fd = ConnectTcp(settings.primary, settings.timeout_ms);
  if (!fd.ok()) return fd.status();
  UniqueFd owned(*fd);
  // As shard 0 of a one-shard standby with nothing: the primary refuses
  // another count in an authenticated WELCOME, or welcomes it; either way
  // its proof covers the cluster id.
  StandbyHandshake hs(settings.password, "", 0, 1, StandbyPosition{}, core::Epoch(1));
  std::string rest;
  absl::Status st = Handshake(owned.get(), hs, settings.timeout_ms, &rest);
  if (!hs.authenticated()) return st.ok() ? absl::UnauthenticatedError("no proof") : st;
  return PrimaryShape{hs.primary_cluster_id(), hs.primary_shard_count()};
}

ReplicationConnector::ReplicationConnector(ConnectSettings settings, int64_t retry_ms,
                                           Deliver deliver, Fatal fatal)
    : settings_(std::move(settings)),
      retry_ms_(retry_ms),
      deliver_(std::move(deliver)),
      fatal_(std::move(fatal)) {}

ReplicationConnector::~ReplicationConnector() { Stop(); }

void ReplicationConnector::Start() { thread_ = std::thread(&ReplicationConnector::Loop, this); }

void ReplicationConnector::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicationConnector::Request(uint32_t shard, StandbyPosition position, core::Epoch epoch,
                                   bool at_once) {
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_.push_back({shard, position, epoch, at_once ? 0 : NowMs() + retry_ms_});
  }
  cv_.notify_all();
}

void ReplicationConnector::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    if (pending_.empty()) {
      cv_.wait(l);
      continue;
    }
    size_t next = 0;
    for (size_t i = 1; i < pending_.size(); ++i)
      if (pending_[i].not_before_ms < pending_[next].not_before_ms) next = i;
    const int64_t wait = pending_[next].not_before_ms - NowMs();
    if (wait > 0) {
      cv_.wait_for(l, std::chrono::milliseconds(wait));
      continue;
    }
    Pending p = pending_[next];
    pending_.erase(pending_.begin() + ptrdiff_t(next));
    l.unlock();
    auto link = ConnectToPrimary(settings_, p.shard, p.position, p.epoch);
    if (link.ok()) {
      if (!last_error_.empty())
        spdlog::info("replication: reached the primary {} again", settings_.primary);
      last_error_.clear();
      deliver_(p.shard, std::move(*link));
    } else {
      Failed(p, link.status());
    }
    l.lock();
  }
}

void ReplicationConnector::Failed(const Pending& p, const absl::Status& st) {
  if (absl::IsUnauthenticated(st) || absl::IsFailedPrecondition(st)) {
    fatal_(absl::FailedPreconditionError("the primary " + settings_.primary + " refused shard " +
                                         std::to_string(p.shard) + ": " +
                                         std::string(st.message())));
    return;
  }
  const std::string why(st.message());
  const int64_t now = NowMs();
  if (why != last_error_ || now - last_logged_ms_ >= kRelogMs) {
    spdlog::warn("replication: shard {} cannot reach the primary {}: {} (retrying every {} ms)",
                 p.shard, settings_.primary, why, retry_ms_);
    last_error_ = why;
    last_logged_ms_ = now;
  }
  Request(p.shard, p.position, p.epoch, false);
}

}  // namespace werk::net
