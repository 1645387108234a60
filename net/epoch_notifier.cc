#include "net/epoch_notifier.h"

#include <algorithm>
#include <chrono>
#include <variant>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "net/blocking_link.h"
#include "net/replication_handshake.h"
#include "net/unique_fd.h"

namespace werk::net {

namespace {

// A failure that goes on is logged again this often.
constexpr int64_t kRelogMs = 60'000;

int64_t NowMs() { return core::SystemClock::Instance().MonotonicNow() / core::kNanosPerMilli; }

}  // namespace

int64_t NotifierBackoff::DelayMs(uint32_t failures) const {
  if (failures == 0) return 0;
  int64_t delay = first_ms;
  for (uint32_t i = 1; i < failures && delay < max_ms; ++i) delay *= 2;
  return std::min(delay, max_ms);
}

absl::StatusOr<NoticeOutcome> DeliverEpochNotice(const NoticeSettings& s,
                                                 core::Epoch* peer_epoch) {
  auto fd = ConnectTcp(s.target, s.timeout_ms);
  if (!fd.ok()) return fd.status();
  UniqueFd owned(*fd);
  BlockingLink link(owned.get(), s.timeout_ms);
  // As shard 0 of a standby that knows the new epoch and has nothing else
  // to say: the old primary decides on the epoch before anything else.
  StandbyHandshake hs(s.password, s.cluster_id, 0, s.shard_count,
                      StandbyPosition{core::Lsn(0), core::Epoch(0), s.epoch}, s.epoch);
  hs.set_epoch_holder(s.holder);
  std::string out;
  hs.Start(out);
  if (auto st = link.Send(out); !st.ok()) return st;
  auto challenge = link.Next();
  if (!challenge.ok()) return challenge.status();
  if (std::holds_alternative<wal::Challenge>(challenge->body)) {
    *peer_epoch = challenge->sender_epoch;
    // Not older: it has nothing to learn from us, and we prove nothing.
    if (challenge->sender_epoch >= s.epoch) return NoticeOutcome::kPeerNotOlder;
  }
  out.clear();
  if (auto st = hs.OnMessage(*challenge, out); !st.ok()) return st;
  if (auto st = link.Send(out); !st.ok()) return st;  // PROOF, then EPOCH_NOTICE
  auto welcome = link.Next();
  if (!welcome.ok()) return welcome.status();
  out.clear();
  absl::Status st = hs.OnMessage(*welcome, out);
  // Any WELCOME whose proof verifies is the old primary's own answer
  // (a refusal, as it is deposed).
  if (hs.authenticated()) return NoticeOutcome::kDelivered;
  return st.ok() ? absl::UnavailableError("no authenticated answer") : st;
}

EpochNotifier::EpochNotifier(NoticeSettings settings, NotifierBackoff backoff)
    : settings_(std::move(settings)), backoff_(backoff) {}

EpochNotifier::~EpochNotifier() { Stop(); }

void EpochNotifier::Start() { thread_ = std::thread(&EpochNotifier::Loop, this); }

void EpochNotifier::RequestStop() {
  std::lock_guard<std::mutex> l(mu_);
  stopping_ = true;
  cv_.notify_all();
}

void EpochNotifier::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void EpochNotifier::Loop() {
  uint32_t failures = 0;
  std::string last_error;
  int64_t logged_ms = 0;
  spdlog::warn("fencing: telling the old primary {} that epoch {} is held by {}",
               settings_.target, settings_.epoch.value(),
               settings_.holder.empty() ? std::string("this server") : settings_.holder);
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(backoff_.DelayMs(failures)),
                   [&] { return stopping_; });
      if (stopping_) return;
    }
    core::Epoch peer(0);
    absl::StatusOr<NoticeOutcome> r = DeliverEpochNotice(settings_, &peer);
    if (r.ok() && *r == NoticeOutcome::kDelivered) {
      spdlog::warn("fencing: the old primary {} knows it is deposed by epoch {}",
                   settings_.target, settings_.epoch.value());
      return;
    }
    if (r.ok()) {
      // Unproven (the CHALLENGE comes before any proof), and it may be the
      // old primary restarted at an epoch number this server also took:
      // keep trying, at the longest interval.
      failures = std::max<uint32_t>(failures, 32);
      const std::string why = "it runs epoch " + std::to_string(peer.value()) +
                              ", not older than this server's " +
                              std::to_string(settings_.epoch.value());
      if (why != last_error || NowMs() - logged_ms >= kRelogMs) {
        spdlog::warn("fencing: {}: {}{}; trying again every {} ms", settings_.target, why,
                     peer > settings_.epoch ? " (a NEWER epoch: check which server is the primary)"
                                            : "",
                     backoff_.max_ms);
        last_error = why;
        logged_ms = NowMs();
      }
      continue;
    }
    ++failures;
    const std::string why(r.status().message());
    if (why != last_error || NowMs() - logged_ms >= kRelogMs) {
      spdlog::warn("fencing: cannot tell the old primary {} of epoch {} yet: {} (retrying, at "
                   "most every {} ms)",
                   settings_.target, settings_.epoch.value(), why, backoff_.max_ms);
      last_error = why;
      logged_ms = NowMs();
    }
  }
}

}  // namespace werk::net
