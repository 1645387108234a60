// Connection I/O: recv, line splitting, send, close, the idle timeout
// (a socket's way in — accept and the handshake — is shard_accept.cc).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/limits.h"
#include "net/resp.h"
#include "net/shard.h"

namespace werk::net {

namespace {
constexpr size_t kHandshakeLineBytesMax = 64 << 10;
// How long a closing connection keeps discarding input after its last reply.
constexpr int64_t kDrainMillis = 1000;
// How long a connection being closed may take to read the replies it is
// owed (a FETCH still parked answers within its own 2 s; a big INFO or PUSHB
// reply at any sane reading speed within seconds).
constexpr int64_t kFlushMillis = 30'000;
}  // namespace

Connection::Connection(Shard* shard, int fd, uint64_t id) : shard_(shard), fd_(fd), id_(id) {
  deadline_.conn = this;
  idle_.conn = this;
  idle_.kind = ConnTimer::Kind::kIdle;
}

void Connection::Op::Complete(int32_t res, uint32_t) {
  Shard* s = conn->shard_;
  switch (kind) {
    case Kind::kRecv: s->OnRecv(conn, res); break;
    case Kind::kSend: s->OnSend(conn, res); break;
    case Kind::kClose: s->OnClosed(conn); break;
  }
}

// --- Recv --------------------------------------------------------------------------

bool Shard::InputBlocked(const Connection* c) const {
  return service_.fetcher().fetching(c) || c->awaiting_remote_ || c->staged_.holes() >= kForwardsInFlightMax ||
         c->pending_output_bytes() >= core::kOutputBytesHighWater;
}

size_t Shard::LineLimit(const Connection* c) const {
  return c->state_ == Connection::State::kHandshake ? kHandshakeLineBytesMax
                                                    : options_.line_bytes_max;
}

void Shard::ArmRecv(Connection* c) {
  if (c->recv_inflight_ || c->closing()) return;
  if (c->state_ == Connection::State::kDraining) {
    c->in_.Clear();
    c->in_.Prepare(InputBuffer::kInitialBytes);
    c->recv_inflight_ = true;
    ++c->inflight_;
    io_uring_prep_recv(reactor().Sqe(&c->recv_op_), c->fd_, c->in_.write_ptr(), c->in_.writable(),
                       0);
    return;
  }
  if (c->state_ != Connection::State::kHandshake && c->state_ != Connection::State::kReady) return;
  if (c->pending_output_bytes() >= core::kOutputBytesHighWater) return;  // backpressure
  // A connection that cannot run its next command (a blocked FETCH, replies
  // owed by other shards) reads a little ahead, then leaves the rest to TCP
  // flow control: what it holds is bounded by this, not by the line limit,
  // which is about one line without its newline.
  if (InputBlocked(c) && c->in_.size() >= core::kInputBytesWhileBlockedMax) return;
  const size_t limit = LineLimit(c);
  if (!c->in_.Prepare(limit)) {
    if (InputBlocked(c)) return;
    // ProcessInput ran every complete line before this, so these are `limit`
    // bytes without a newline and no end in sight.
    if (c->state_ == Connection::State::kHandshake) {
      CloseConnection(c);
    } else {
      c->command_ = CommandKind::kUntimed;  // not a command: not timed
      ReplyError(c, "line too long: more than " + std::to_string(limit) +
                        " bytes without a newline (closing connection)");
      CloseAfterFlush(c);
    }
    return;
  }
  if (c->tls_) return ReadTls(c);
  c->recv_inflight_ = true;
  ++c->inflight_;
  io_uring_prep_recv(reactor().Sqe(&c->recv_op_), c->fd_, c->in_.write_ptr(), c->in_.writable(),
                     0);
}

void Shard::OnRecv(Connection* c, int32_t res) {
  c->recv_inflight_ = false;
  --c->inflight_;
  if (c->closing()) {
    MaybeFinishClose(c);
    return;
  }
  if (c->state_ == Connection::State::kDraining) {
    // Discard until the peer closes its side (or the drain deadline).
    if (res > 0 || res == -EINTR || res == -EAGAIN) ArmRecv(c);
    else CloseConnection(c);
    return;
  }
  if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS) {
    ArmRecv(c);
    return;
  }
  if (res <= 0) {
    // EOF or reset: replies already owed still go out if the peer reads.
    if (res < 0) spdlog::debug("connection {} ({}): recv: {}", c->id_, c->peer_, std::strerror(-res));
    if (res == 0 && c->state_ == Connection::State::kReady) {
      // The client closed its side: the commands it sent before still run
      // (some may wait behind a blocked FETCH or other shards' replies), and
      // the connection closes once they are answered (ProcessInput).
      c->state_ = Connection::State::kInputEnded;
      ProcessInput(c);
    } else if (res == 0 && c->flushing()) {
      // Already on its way out: the replies owed still go out.
    } else {
      CloseConnection(c);
    }
    return;
  }
  ++stats_.reads_with_data;
  if (c->tls_) {
    // Ciphertext: decrypted into in_ by ReadTls, if the connection may read.
    c->tls_->Feed(size_t(res));
    return ArmRecv(c);
  }
  c->in_.Produced(size_t(res));
  ProcessInput(c);
}

void Shard::ProcessInput(Connection* c) {
  std::string_view line;
  bool exhausted = false;  // every complete line has run
  while (c->runs_commands() && !InputBlocked(c)) {
    if (!c->in_.NextLine(&line)) {
      exhausted = true;
      break;
    }
    if (c->state_ == Connection::State::kHandshake) {
      Handshake(c, line);
    } else if (line.size() > options_.line_bytes_max) {
      // A whole line over the limit (it fit in the buffer's slack): refused,
      // and since its end is known the connection carries on.
      c->command_ = CommandKind::kUntimed;  // not a command: not timed
      ReplyError(c, "line too long: " + std::to_string(line.size()) + " bytes, the limit is " +
                        std::to_string(options_.line_bytes_max));
    } else {
      Dispatch(c, line);
    }
  }
  if (!c->runs_commands()) return;
  if (exhausted) {
    // What is left has no newline. Only this counts against the line limit:
    // complete lines waiting for their turn are bounded by ArmRecv instead.
    const size_t limit = LineLimit(c);
    if (c->in_.size() > limit) {
      if (c->state_ == Connection::State::kHandshake) {
        CloseConnection(c);
        return;
      }
      c->command_ = CommandKind::kUntimed;  // not a command: not timed
      ReplyError(c, "line too long: more than " + std::to_string(limit) +
                        " bytes without a newline (closing connection)");
      CloseAfterFlush(c);
      return;
    }
    if (c->state_ == Connection::State::kInputEnded) {
      CloseAfterFlush(c);  // every command the client sent has run
      return;
    }
  }
  ArmRecv(c);
}

// --- Send ------------------------------------------------------------------------------

void Shard::StartSend(Connection* c) {
  if (c->send_inflight_ || c->closing()) return;
  if (c->sent_ == c->sending_.size()) {
    if (c->tls_) {
      if (!EncryptTls(c)) return;
    } else {
      if (c->out_.empty()) return;
      c->sending_.clear();
      c->sending_.swap(c->out_);
    }
    c->sent_ = 0;
  }
  c->send_inflight_ = true;
  ++c->inflight_;
  io_uring_prep_send(reactor().Sqe(&c->send_op_), c->fd_, c->sending_.data() + c->sent_,
                     c->sending_.size() - c->sent_, MSG_NOSIGNAL);
}

void Shard::OnSend(Connection* c, int32_t res) {
  c->send_inflight_ = false;
  --c->inflight_;
  if (c->closing()) {
    MaybeFinishClose(c);
    return;
  }
  if (res == -EINTR || res == -EAGAIN) {
    StartSend(c);
    return;
  }
  if (res < 0) {
    spdlog::debug("connection {} ({}): send: {}", c->id_, c->peer_, std::strerror(-res));
    CloseConnection(c);
    return;
  }
  c->sent_ += size_t(res);
  if (c->sent_ == c->sending_.size() && c->sending_.capacity() > (1u << 20)) {
    std::string().swap(c->sending_);  // do not pin a huge INFO/PUSHB reply
    c->sent_ = 0;
  }
  StartSend(c);
  MaybeFinishClose(c);
  if (c->closing()) return;
  // Output drained below the high-water mark: resume reading and dispatching.
  if (c->pending_output_bytes() < core::kOutputBytesHighWater) {
    ProcessInput(c);
  }
}

// --- Close -------------------------------------------------------------------------------

void Shard::CloseAfterFlush(Connection* c) {
  if (c->closing()) return;
  if (!c->flushing()) {
    // The flush itself has a deadline: a client that stops reading would
    // otherwise keep its socket and buffers forever once it no longer
    // counts against the connection limit. (The idle timer serves: nothing
    // else arms it once the connection is on its way out.)
    conn_timers_.Cancel(&c->idle_);
    conn_timers_.Arm(&c->idle_, mono_ms() + kFlushMillis);
    c->state_ = Connection::State::kFlushing;
  }
  LeaveHandshake(c);
  // A connection on its way out no longer counts against the limit.
  if (c->counted_) {
    c->counted_ = false;
    --ready_connections_;
    group_->connections.fetch_sub(1, std::memory_order_relaxed);
  }
  MaybeFinishClose(c);
}

void Shard::CloseConnection(Connection* c) {
  if (c->closing()) return;
  c->state_ = Connection::State::kClosing;
  conn_timers_.Cancel(&c->deadline_);
  conn_timers_.Cancel(&c->idle_);
  LeaveHandshake(c);
  service_.fetcher().Cancel(c);
  DetachWorker(c);
  if (c->counted_) {
    c->counted_ = false;
    --ready_connections_;
    group_->connections.fetch_sub(1, std::memory_order_relaxed);
  }
  // Wakes an in-flight recv; pending sends fail. The fd closes once no
  // request of ours references it.
  ::shutdown(c->fd_, SHUT_RDWR);
  MaybeFinishClose(c);
}

void Shard::MaybeFinishClose(Connection* c) {
  if (!c->closing()) {
    if (c->state_ == Connection::State::kFlushing && !c->awaiting_remote_ &&
        c->staged_.empty() && c->out_.empty() &&
        c->sent_ == c->sending_.size() && !c->send_inflight_) {
      if (shutting_down_) {
        CloseConnection(c);
        return;
      }
      // TLS: the close_notify goes before the FIN.
      if (c->tls_ && FinishTls(c)) return;
      // A lingering close: send FIN, then read and drop whatever the client
      // is still sending. Closing with unread input would make the kernel
      // answer with a reset, which can destroy the reply (e.g. "line too
      // long") before the client reads it.
      c->state_ = Connection::State::kDraining;
      ::shutdown(c->fd_, SHUT_WR);
      conn_timers_.Cancel(&c->deadline_);
      c->deadline_.kind = ConnTimer::Kind::kDrain;
      conn_timers_.Arm(&c->deadline_, mono_ms() + kDrainMillis);
      ArmRecv(c);
    }
    return;
  }
  if (c->inflight_ > 0) return;
  if (c->fd_ >= 0) {
    ++c->inflight_;
    io_uring_prep_close(reactor().Sqe(&c->close_op_), c->fd_);
    c->fd_ = -1;
  }
}

void Shard::OnClosed(Connection* c) {
  --c->inflight_;
  WERK_CHECK(c->inflight_ == 0);
  if (c->awaiting_release_) {
    awaiting_.erase(std::remove(awaiting_.begin(), awaiting_.end(), c), awaiting_.end());
  }
  connections_.Remove(c);
  --socket_count_;
  group_->sockets.fetch_sub(1, std::memory_order_relaxed);
  delete c;
}

// --- Idle timeout ------------------------------------------------------------------------

void Shard::ArmIdle(Connection* c) {
  if (options_.idle_timeout_s <= 0) return;
  c->last_command_ms_ = mono_ms();
  conn_timers_.Arm(&c->idle_, mono_ms() + options_.idle_timeout_s * 1000);
}

void Shard::OnIdleTimer(Connection* c) {
  if (c->closing()) return;
  if (c->flushing()) {
    // The flush deadline (CloseAfterFlush): whatever is still unsent is
    // dropped with the connection.
    ++stats_.flush_expired;
    spdlog::debug("connection {} ({}): replies not read within {} ms of closing, closing now", c->id_, c->peer_,
                  kFlushMillis);
    CloseConnection(c);
    return;
  }
  const int64_t timeout_ms = options_.idle_timeout_s * 1000;
  // Commands only stamp last_command_ms_; the timer catches up lazily, so
  // the hot path never touches the wheel. A connection waiting for the
  // server (a blocked FETCH, other shards' replies, the log) is not idle.
  const bool waiting_for_us =
      service_.fetcher().fetching(c) || c->awaiting_remote_ || !c->staged_.empty();
  const int64_t due = c->last_command_ms_ + timeout_ms;
  if (due > mono_ms() || waiting_for_us) {
    conn_timers_.Arm(&c->idle_, std::max(due, mono_ms() + (waiting_for_us ? timeout_ms : 0)));
    return;
  }
  // Only complete commands count, so a client dribbling a line a byte at a
  // time is closed all the same.
  ++stats_.idle_closed;
  spdlog::debug("connection {} ({}): no command for {} s, closing", c->id_, c->peer_, options_.idle_timeout_s);
  CloseAfterFlush(c);
}

}  // namespace werk::net
