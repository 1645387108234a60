// TLS connections: the session (net/tls_session.h) between the socket and
// the connection's buffers. The socket I/O is the same io_uring recv and
// send as for plaintext; only what is received and what is sent changes:
//
//   recv -> session.Feed ... session.Read -> in_ -> ProcessInput (as plaintext)
//   Reply -> out_ -> session.Write ... session.TakeOutput -> sending_ -> send
//
// The handshake is driven by the same calls, so it runs on the shard's loop
// like any other input and never blocks it; the handshake deadline, armed
// at accept and cancelled by HELLO, covers it (a client that never finishes
// the TLS handshake is closed like one that never sends HELLO). The greeting
// is queued at accept as usual and waits in out_ until the handshake is done.
//
// The plaintext path is unchanged except for one test of `tls_` in ArmRecv,
// OnRecv, StartSend and MaybeFinishClose.

#include <spdlog/spdlog.h>

#include "net/shard.h"

namespace werk::net {

using TlsResult = TlsSession::Result;

void Shard::ReadTls(Connection* c) {
  TlsSession& tls = *c->tls_;
  if (tls.starved()) {
    c->recv_inflight_ = true;
    ++c->inflight_;
    io_uring_prep_recv(reactor().Sqe(&c->recv_op_), c->fd_, tls.recv_buffer(),
                       TlsSession::kRecvBytes, 0);
    return;
  }
  // ProcessInput ends in ArmRecv, which comes back here: the nested call
  // only asks for another round, so a long run of buffered records is a
  // loop, not a recursion.
  if (c->tls_reading_) {
    c->tls_again_ = true;
    return;
  }
  c->tls_reading_ = true;
  do {
    c->tls_again_ = false;
    if (!DecryptTls(c)) break;
    ProcessInput(c);
  } while (c->tls_again_ && !c->closing());
  c->tls_reading_ = false;
}

bool Shard::DecryptTls(Connection* c) {
  TlsSession& tls = *c->tls_;
  TlsResult r = TlsResult::kOk;
  // ArmRecv made room (InputBuffer::Prepare) before calling ReadTls; what
  // does not fit stays in the session until the next round.
  while (c->in_.writable() > 0) {
    size_t n = 0;
    r = tls.Read(c->in_.write_ptr(), c->in_.writable(), &n);
    if (r != TlsResult::kOk) break;
    c->in_.Produced(n);
  }
  if (r == TlsResult::kFailed) {
    // Not TLS (a plaintext client), a version below 1.2, a client that
    // refused our certificate, or a corrupted record.
    spdlog::debug("connection {} ({}): TLS: {}", c->id_, c->peer_, tls.error());
    if (c->closing() || c->flushing()) return false;
    if (c->state_ == Connection::State::kHandshake) {
      // The alert saying why goes out before the FIN; the greeting never will.
      c->out_.clear();
      StartSend(c);
      CloseAfterFlush(c);
    } else {
      // Replies owed can no longer be encrypted.
      CloseConnection(c);
    }
    return false;
  }
  // Handshake records, or the greeting once the handshake is done.
  if (tls.output_bytes() > 0 || (!c->out_.empty() && tls.handshake_done())) StartSend(c);
  if (r == TlsResult::kClosed) {
    // close_notify: the client's end of input, as a FIN is for plaintext
    // (OnRecv); the commands before it still run.
    if (c->state_ == Connection::State::kReady) {
      c->state_ = Connection::State::kInputEnded;
      return true;
    }
    if (!c->flushing()) CloseConnection(c);
    return false;
  }
  return true;
}

bool Shard::EncryptTls(Connection* c) {
  TlsSession& tls = *c->tls_;
  if (!c->out_.empty()) {
    const TlsResult r = tls.Write(c->out_);
    if (r == TlsResult::kOk) {
      c->out_.clear();
    } else if (r == TlsResult::kFailed && !c->closing()) {
      spdlog::debug("connection {} ({}): TLS: {}", c->id_, c->peer_, tls.error());
      c->out_.clear();  // never sendable now
      if (tls.output_bytes() == 0) {
        CloseConnection(c);
        return false;
      }
      CloseAfterFlush(c);  // after the alert
    }
    // kWantInput: the handshake is not done; out_ waits for it.
  }
  if (tls.output_bytes() == 0) return false;
  c->sending_.clear();
  tls.TakeOutput(&c->sending_);
  return true;
}

bool Shard::FinishTls(Connection* c) {
  TlsSession& tls = *c->tls_;
  tls.Shutdown();  // once; nothing after a failure
  if (tls.output_bytes() == 0) return false;
  StartSend(c);
  return c->send_inflight_;
}

}  // namespace werk::net
