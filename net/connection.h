#pragma once
// One client connection, owned by the shard that accepted it. The shard
// drives it; this class holds its buffers, its handshake and worker identity,
// and the io_uring completion objects of its in-flight recv and send.
//
// Replies are staged with the LSN that must be durable before they may leave
// (design §3 "Replies wait for durability"); staged bytes move to the output
// buffer in order as the journal's durable LSN advances (net/reply_queue.h).
// A connection is freed only once no request of its own is in flight in the
// ring.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/fetcher.h"
#include "core/intrusive_list.h"
#include "core/reactor.h"
#include "core/timer_wheel.h"
#include "core/types.h"
#include "net/command_kind.h"
#include "net/input_buffer.h"
#include "net/reply_queue.h"
#include "net/tls_session.h"

namespace werk::net {

class Shard;
class Connection;
struct LocalWorker;

// A deadline on the shard's connection timer wheel (monotonic ms).
struct ConnTimer : core::TimerHook {
  enum class Kind : uint8_t { kHandshake, kDrain, kIdle };
  Kind kind = Kind::kHandshake;
  Connection* conn = nullptr;
};

struct AllConnectionsTag {};
struct HandshakeTag {};  // the shard's sockets still in the handshake, oldest first

// A FETCH's answer comes back through core::FetchWaiter.
class Connection final : public core::ListHook<AllConnectionsTag>,
                         public core::ListHook<HandshakeTag>,
                         public core::FetchWaiter {
 public:
  // A connection's life, in this order only (a step may be skipped):
  //
  //   kHandshake --HELLO--> kReady --end of input--> kInputEnded
  //        \                  \                        /
  //         `-------------------`--> kFlushing <-------'   no further command;
  //                                     |                   replies go out
  //                                 kDraining               FIN sent; input discarded
  //                                     |
  //   (any state) ---------------> kClosing                 shut down; freed once no
  //                                                         request of ours is in flight
  enum class State : uint8_t { kHandshake, kReady, kInputEnded, kFlushing, kDraining, kClosing };

  Connection(Shard* shard, int fd, uint64_t id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  uint64_t id() const { return id_; }

  // --- I/O state (driven by Shard) -------------------------------------
  struct Op final : core::IoCompletion {
    enum class Kind : uint8_t { kRecv, kSend, kClose } kind;
    Connection* conn;
    Op(Kind k, Connection* c) : kind(k), conn(c) {}
    void Complete(int32_t res, uint32_t flags) override;
  };

  Shard* shard_;
  int fd_;
  uint64_t id_;
  State state_ = State::kHandshake;
  bool closing() const { return state_ == State::kClosing; }
  // Runs the commands it reads (the handshake's HELLO included).
  bool runs_commands() const { return state_ <= State::kInputEnded; }
  // On its way out: every reply owed goes out, then it closes.
  bool flushing() const { return state_ == State::kFlushing || state_ == State::kDraining; }

  bool counted_ = false;           // counts against connections_max
  bool awaiting_remote_ = false;   // a command runs on other shards; input waits
  bool recv_inflight_ = false;
  bool send_inflight_ = false;
  bool awaiting_release_ = false;  // on the shard's list of staged replies
  int inflight_ = 0;
  Op recv_op_{Op::Kind::kRecv, this};
  Op send_op_{Op::Kind::kSend, this};
  Op close_op_{Op::Kind::kClose, this};

  InputBuffer in_;
  std::string out_;      // ready to send
  std::string sending_;  // owned by the in-flight send
  size_t sent_ = 0;      // bytes of sending_ already sent
  ReplyQueue staged_;    // replies waiting for durability or for their owner

  // --- TLS (net/shard_tls.cc); null on a plaintext port -------------------
  // Between the socket and in_/out_: recv brings ciphertext into the
  // session, which decrypts into in_; out_ is encrypted into sending_.
  std::unique_ptr<TlsSession> tls_;
  bool tls_reading_ = false;  // inside Shard::ReadTls (a nested call asks for another round)
  bool tls_again_ = false;    // ... and one did

  size_t pending_output_bytes() const {
    return out_.size() + (sending_.size() - sent_) + staged_.bytes();
  }

  // --- Handshake and identity ------------------------------------------
  std::string peer_;  // "host:port", for log lines
  std::string salt_;
  int iterations_ = 1;
  std::string wid_;
  LocalWorker* worker_ = nullptr;
  ConnTimer deadline_;  // handshake or drain: one at a time

  // --- Latency (ShardSummary::command_latency_us) ------------------------
  // The command whose replies are being staged and the loop's wake-up time
  // of the iteration that dispatched it; stamped in Dispatch and held while
  // the command waits (a blocked FETCH, a PUSHB decoded in slices, a command
  // on several shards: the connection dispatches nothing else meanwhile).
  CommandKind command_ = CommandKind::kUntimed;
  int64_t command_read_ns_ = 0;

  // --- Idle timeout (connections without a wid) ----------------------------
  ConnTimer idle_;              // armed lazily: it re-arms itself until due
  int64_t last_command_ms_ = 0;  // monotonic ms of the last command dispatched

  // --- FETCH ------------------------------------------------------------
  void OnFetched(core::FetchResult result) override;
  bool fetch_starting_ = false;  // inside Fetcher::Start: an answer needs no resume
};

}  // namespace werk::net
