// A socket's way in: accept (the socket and handshake limits, the
// handshake pool where the oldest gives way), the greeting, and HELLO.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "net/client_socket.h"
#include "net/command_decoders.h"
#include "net/password.h"
#include "net/resp.h"
#include "net/shard.h"
#include "net/tls_context.h"

namespace werk::net {

namespace {
constexpr int64_t kAcceptBackoffMs = 100;
// Sockets on their way out (draining after their last reply, or refused with
// "too many connections") beyond the connection and handshake limits; past
// this, new sockets are closed at once.
constexpr size_t kClosingSlack = 256;
}  // namespace

// --- Accept ----------------------------------------------------------------------

void Shard::ArmAccept(AcceptOp* op) {
  io_uring_prep_multishot_accept(reactor().Sqe(op), op->fd, nullptr, nullptr, SOCK_CLOEXEC);
}

void Shard::AcceptOp::Complete(int32_t res, uint32_t flags) { shard->OnAccept(this, res, flags); }

void Shard::OnAccept(AcceptOp* op, int32_t res, uint32_t flags) {
  const bool more = flags & IORING_CQE_F_MORE;
  if (res < 0) {
    if (shutting_down_) return;
    if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
      spdlog::warn("accept failed: {}; pausing accepts for {} ms", std::strerror(-res),
                   kAcceptBackoffMs);
      if (!more && !accept_paused_) {
        accept_paused_ = true;
        accept_resume_ms_ = mono_ms() + kAcceptBackoffMs;
      }
      return;
    }
    if (!more) ArmAccept(op);
    return;
  }
  if (!more && !shutting_down_) ArmAccept(op);
  const int fd = res;
  // The socket ceiling holds for the whole server, like the connection limit.
  const size_t handshake_max = HandshakeConnectionsMax(options_);
  if (shutting_down_ || size_t(group_->sockets.load(std::memory_order_relaxed)) >=
                            options_.connections_max + handshake_max + kClosingSlack) {
    ++stats_.connections_rejected;
    ::close(fd);
    return;
  }
  // Every shard accepts on the one listening socket, but the kernel wakes
  // one waiter, mostly the same one: the sockets are dealt to the shards in
  // turn, whichever took them.
  const uint32_t n = shard_count();
  const uint32_t target =
      n > 1 && op->kind == Listener::kShared
          ? uint32_t(group_->accepts.fetch_add(1, std::memory_order_relaxed) % n)
          : id_;
  if (target == id_) {
    TakeSocket(fd);
    return;
  }
  runtime_.Post(target, [peer = peers_[target], fd] { peer->TakeSocket(fd); });
}

void Shard::TakeSocket(int fd) {
  const size_t handshake_max = HandshakeConnectionsMax(options_);
  if (shutting_down_) {
    ++stats_.connections_rejected;
    ::close(fd);
    return;
  }
  // Sockets that have not authenticated have their own, smaller pool, so a
  // flood of them never takes the slots of authenticated clients. When it is
  // full the oldest gives way: a newcomer always gets its greeting and as
  // long to answer as it takes the flood to cycle through the whole pool,
  // where refusing newcomers would let whoever holds the pool keep it (each
  // socket of it still goes at its handshake deadline).
  if (size_t(group_->handshakes.load(std::memory_order_relaxed)) >= handshake_max) {
    Connection* oldest = handshaking_.Front();
    if (!oldest) {  // the pool is full of other shards' sockets
      ++stats_.connections_rejected;
      ::close(fd);
      return;
    }
    ++stats_.handshakes_evicted;
    spdlog::debug("connection {} ({}): {} sockets in the handshake, closing the oldest",
                  oldest->id_, oldest->peer_, handshake_max);
    CloseConnection(oldest);
  }
  ConfigureClientSocket(fd);
  ++stats_.connections_accepted;
  ++socket_count_;
  group_->sockets.fetch_add(1, std::memory_order_relaxed);
  auto* c = new Connection(this, fd, next_conn_id_++);
  c->peer_ = PeerAddress(fd);
  if (options_.tls) {
    c->tls_ = std::make_unique<TlsSession>(options_.tls->ctx(), TlsSession::Side::kServer);
  }
  connections_.PushBack(c);
  handshaking_.PushBack(c);
  group_->handshakes.fetch_add(1, std::memory_order_relaxed);

  std::string hi = "+HI {\"v\":2";
  if (!options_.password.empty()) {
    c->iterations_ = 4000 + int(rng_() % 4096);
    char salt[32];
    std::snprintf(salt, sizeof salt, "%llx",
                  static_cast<unsigned long long>(rng_() & 0x7fffffffffffffffULL));
    c->salt_ = salt;
    hi += ",\"i\":" + std::to_string(c->iterations_) + ",\"s\":\"" + c->salt_ + "\"";
  }
  hi += "}\r\n";
  c->out_ = std::move(hi);
  StartSend(c);  // over TLS, once the handshake is done
  // Counted from accept and never pushed back: bytes trickling in do not
  // extend it. It covers the TLS handshake too.
  c->deadline_.kind = ConnTimer::Kind::kHandshake;
  conn_timers_.Arm(&c->deadline_, mono_ms() + options_.handshake_timeout_s * 1000);
  ArmRecv(c);
}

// --- Handshake ----------------------------------------------------------------------------

void Shard::Handshake(Connection* c, std::string_view line) {
  // Anything but `HELLO {...}` closes without a reply, as Faktory does (this
  // is also what a TLS client hitting a plaintext port gets).
  constexpr std::string_view kHello = "HELLO {";
  if (line.substr(0, kHello.size()) != kHello) {
    spdlog::debug("connection {} ({}): invalid preamble, closing", c->id_, c->peer_);
    CloseConnection(c);
    return;
  }
  HelloArgs hello;
  if (core::OpStatus s = DecodeHello(decoder_, line.substr(6), &hello); !s.ok()) {
    spdlog::debug("connection {} ({}): invalid HELLO ({}), closing", c->id_, c->peer_,
                  std::string(s.message()));
    CloseConnection(c);
    return;
  }
  if (!options_.password.empty()) {
    const int iterations = hello.v < 2 ? 1 : c->iterations_;
    const std::string expected = PasswordHash(options_.password, c->salt_, iterations);
    if (!ConstantTimeEquals(hello.pwdhash, expected)) {
      spdlog::warn("connection {} ({}): invalid password", c->id_, c->peer_);
      ReplyError(c, "Invalid password");
      CloseAfterFlush(c);
      return;
    }
  }
  conn_timers_.Cancel(&c->deadline_);
  LeaveHandshake(c);
  c->state_ = Connection::State::kReady;
  c->counted_ = true;
  ++ready_connections_;
  // The limit holds for the whole server, whichever shard took the connection.
  const int64_t open = group_->connections.fetch_add(1, std::memory_order_relaxed) + 1;
  if (size_t(open) > options_.connections_max) {
    spdlog::warn("over {} client connections: refusing connection {} ({})",
                 options_.connections_max, c->id_, c->peer_);
    ++stats_.connections_rejected;
    ReplyOk(c);
    ReplyError(c, "too many connections: " + std::to_string(open));
    CloseAfterFlush(c);
    return;
  }
  if (hello.wid.empty()) {
    ArmIdle(c);  // a worker is judged by its BEATs instead
    // Depends on no record: not held behind what the log (or the standby)
    // has not made durable yet.
    return ReplyIndependent(c, kOkReply);
  }
  if (hello.wid.size() > core::kWidBytesMax) {
    ReplyOk(c);
    ReplyError(c, "wid is longer than " + std::to_string(core::kWidBytesMax) + " bytes");
    CloseAfterFlush(c);
    return;
  }
  AttachWorker(c, std::move(hello));
}

void Shard::LeaveHandshake(Connection* c) {
  if (!c->core::ListHook<HandshakeTag>::in_list()) return;
  handshaking_.Remove(c);
  group_->handshakes.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace werk::net
