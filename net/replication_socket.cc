#include "net/replication_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/check.h"
#include "wal/replication_sender.h"

namespace werk::net {

namespace {
constexpr size_t kRecvBytes = 64u << 10;
// At most this much per send: a send is issued inline when the ring is
// entered, and the kernel copies (over loopback: delivers) all it can of
// it there, on the shard's thread; a bootstrap's megabytes in one send
// stalled the loop for tens of ms.
constexpr size_t kSendSliceBytes = 256u << 10;
constexpr size_t kKeepSendBytes = 2 * wal::kSendWindowBytes;
constexpr size_t kKeepRecvBytes = 4u << 20;
static_assert(kKeepRecvBytes > wal::kCheckpointChunkBytesMax + wal::kMessageOverheadBytes + 64);
}  // namespace

ReplicationSocket::ReplicationSocket(core::Reactor* reactor, int fd, Handler handler,
                                     core::Epoch epoch)
    : reactor_(reactor), fd_(fd), handler_(std::move(handler)), epoch_(epoch) {
  recv_op_.self = send_op_.self = this;
  recv_op_.recv = true;
}

ReplicationSocket::~ReplicationSocket() {
  // The owner destroys the link only once no request of it is in the ring
  // (after OnClosed, or before Start).
  WERK_CHECK(!recv_inflight_ && !send_inflight_);
  if (!closed_ && fd_ >= 0) ::close(fd_);
}

void ReplicationSocket::Start(std::string buffered) {
  in_ = std::move(buffered);
  in_used_ = in_.size();
  if (in_.size() < kRecvBytes) in_.resize(kRecvBytes);
  HandleInput();
  if (!closing_) PostRecv();
  MaybeFinishClose();
}

void ReplicationSocket::Op::Complete(int32_t res, uint32_t) {
  if (recv)
    self->OnRecv(res);
  else
    self->OnSend(res);
}

void ReplicationSocket::PostRecv() {
  if (recv_inflight_ || closing_) return;
  // Room for what the decoder said it needs (a whole message once its
  // length is known), and at least one ordinary recv.
  const size_t want = std::max(in_used_ + kRecvBytes / 4, need_);
  if (in_.size() < want) in_.resize(std::max(want, kRecvBytes));
  recv_inflight_ = true;
  io_uring_prep_recv(reactor_->Sqe(&recv_op_), fd_, in_.data() + in_used_, in_.size() - in_used_,
                     0);
}

void ReplicationSocket::OnRecv(int32_t res) {
  recv_inflight_ = false;
  if (res <= 0) {
    if (!closing_) {
      Close(absl::UnavailableError(res == 0 ? std::string("the peer closed the link")
                                            : std::string("recv: ") + std::strerror(-res)));
    }
    MaybeFinishClose();
    return;
  }
  bytes_received_ += uint64_t(res);
  in_used_ += size_t(res);
  HandleInput();
  if (!closing_) PostRecv();
  MaybeFinishClose();
}

void ReplicationSocket::HandleInput() {
  handling_ = true;
  size_t at = 0;
  while (!closing_) {
    wal::DecodeResult r = wal::DecodeMessage(std::string_view(in_.data() + at, in_used_ - at));
    if (r.outcome == wal::DecodeResult::Outcome::kNeedMore) {
      need_ = r.bytes;
      break;
    }
    if (r.outcome == wal::DecodeResult::Outcome::kError) {
      Close(absl::InvalidArgumentError("the peer sent a bad message (" +
                                       std::string(wal::ProtocolErrorName(r.error)) + ")"));
      break;
    }
    const absl::Status st = handler_.on_message(r.message);
    at += r.bytes;
    if (!st.ok()) Close(st);
  }
  if (at > 0) {
    std::memmove(in_.data(), in_.data() + at, in_used_ - at);
    in_used_ -= at;
  }
  // Do not keep a large message's buffer once it is handled (a
  // checkpoint's chunks, a megabyte each, are not large: they keep coming).
  if (in_.size() > kKeepRecvBytes && in_used_ < kRecvBytes && need_ <= kRecvBytes) {
    in_.resize(kRecvBytes);
    in_.shrink_to_fit();
  }
  handling_ = false;
}

void ReplicationSocket::Flush() {
  if (send_inflight_ || closing_) return;
  if (sent_ == sending_.size()) {
    if (out_.empty()) return;
    sending_.clear();
    sending_.swap(out_);
    sent_ = 0;
  }
  send_inflight_ = true;
  io_uring_prep_send(reactor_->Sqe(&send_op_), fd_, sending_.data() + sent_,
                     std::min(sending_.size() - sent_, kSendSliceBytes), MSG_NOSIGNAL);
}

void ReplicationSocket::OnSend(int32_t res) {
  send_inflight_ = false;
  if (res < 0) {
    if (!closing_) Close(absl::UnavailableError(std::string("send: ") + std::strerror(-res)));
    MaybeFinishClose();
    return;
  }
  sent_ += size_t(res);
  if (closing_) {
    MaybeFinishClose();
    return;
  }
  if (sent_ == sending_.size()) {
    sending_.clear();
    sent_ = 0;
    // Kept up to twice the sender's window: a bootstrap or a catch-up
    // fills it again at once, and a buffer grown afresh for each window
    // faults its pages in again on the shard's thread. Beyond that (one
    // huge record), it goes.
    if (sending_.capacity() > kKeepSendBytes) std::string().swap(sending_);
  }
  Flush();
  if (!send_inflight_ && handler_.on_writable) handler_.on_writable();
}

void ReplicationSocket::Close(const absl::Status& why) {
  if (closing_) return;
  closing_ = true;
  reason_ = why;
  // Tell the peer why, if nothing is half sent (best effort: a full socket
  // buffer drops it; the peer then sees the close alone).
  if (!why.ok() && !absl::IsUnavailable(why) && !send_inflight_ && sent_ == sending_.size()) {
    const std::string text = std::string(why.message()).substr(0, wal::kMessageTextBytesMax);
    std::string err;
    wal::AppendMessage(err, epoch_,
                       wal::Error{absl::IsUnauthenticated(why) ? wal::ErrorCode::kAuthentication
                                                               : wal::ErrorCode::kProtocol,
                                  text});
    (void)!::send(fd_, err.data(), err.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  // Wakes the recv in flight; a send in flight fails.
  ::shutdown(fd_, SHUT_RDWR);
  MaybeFinishClose();
}

void ReplicationSocket::MaybeFinishClose() {
  if (!closing_ || closed_ || handling_ || recv_inflight_ || send_inflight_) return;
  ::close(fd_);
  fd_ = -1;
  closed_ = true;
  // Last: the owner may destroy this link from the callback.
  if (handler_.on_closed) handler_.on_closed(reason_);
}

}  // namespace werk::net
