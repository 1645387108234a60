#include "net/replication_acceptor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "net/blocking_link.h"

namespace werk::net {

namespace {

std::string PeerName(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

wal::ErrorCode CodeFor(const absl::Status& st) {
  if (absl::IsUnauthenticated(st)) return wal::ErrorCode::kAuthentication;
  return wal::ErrorCode::kProtocol;
}

}  // namespace

ReplicationAcceptor::ReplicationAcceptor(int listen_fd, Settings settings, EpochFn epoch,
                                         Deliver deliver)
    : listen_fd_(listen_fd),
      settings_(std::move(settings)),
      epoch_(std::move(epoch)),
      deliver_(std::move(deliver)) {}

ReplicationAcceptor::~ReplicationAcceptor() { Stop(); }

void ReplicationAcceptor::Start() { thread_ = std::thread(&ReplicationAcceptor::Loop, this); }

void ReplicationAcceptor::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReplicationAcceptor::Loop() {
  while (!stopping_) {
    // Polled with a short timeout so Stop() needs no signal.
    pollfd p{listen_fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                             SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      const int err = errno;
      if (err != EAGAIN && err != EINTR && err != ECONNABORTED) {
        // Out of descriptors or memory: the connection stays in the backlog
        // and poll says so at once; wait instead of spinning, say it once.
        if (err != last_accept_error_)
          spdlog::warn("replication port: accept: {} (retrying every 100 ms)",
                       std::strerror(err));
        last_accept_error_ = err;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    last_accept_error_ = 0;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Serve(UniqueFd(fd), PeerName(addr));
  }
}

void ReplicationAcceptor::Serve(UniqueFd fd, std::string peer) {
  auto hs = std::make_unique<PrimaryHandshake>(settings_.password, settings_.cluster_id,
                                               settings_.shard_count, epoch_());
  BlockingLink link(fd.get(), settings_.handshake_timeout_ms);
  std::string out;
  absl::Status st;
  while (!hs->proven()) {
    auto m = link.Next();
    if (!m.ok()) {
      st = m.status();
      break;
    }
    out.clear();
    st = hs->OnMessage(*m, out);
    if (!out.empty()) (void)link.Send(out);  // CHALLENGE, or an authenticated REFUSED
    if (!st.ok()) break;
  }
  if (!st.ok()) {
    if (absl::IsFailedPrecondition(st)) {
      // Refused in WELCOME (another cluster, shard count): already said.
      const bool fresh = hs->fresh();
      if (fresh) {
        spdlog::info("replication port: {} (a new standby learning this primary's shape): {}",
                     peer, std::string(st.message()));
      } else {
        spdlog::warn("replication port: {}: {}", peer, std::string(st.message()));
      }
    } else {
      spdlog::warn("replication port: handshake with {} failed: {}", peer,
                   std::string(st.message()));
      out.clear();
      const std::string text = std::string(st.message()).substr(0, wal::kMessageTextBytesMax);
      wal::AppendMessage(out, epoch_(), wal::Error{CodeFor(st), text});
      (void)link.Send(out);
    }
    return;
  }
  if (hs->fresh()) {
    // A new standby learning the cluster and shard count (its probe): the
    // authenticated refusal tells it both. Never a shard's: it would take
    // the place of the standby attached there.
    out.clear();
    hs->Welcome({wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
                 "a new standby's probe: this primary runs " +
                     std::to_string(settings_.shard_count) + " shards"},
                out);
    (void)link.Send(out);
    spdlog::info("replication port: {} (a new standby) learned this primary's cluster and shape",
                 peer);
    return;
  }
  spdlog::info("replication port: standby {} proved itself for shard {}", peer, hs->shard());
  deliver_(ProvenStandby{std::move(fd), std::move(hs), link.TakeRest(), std::move(peer)});
}

}  // namespace werk::net
