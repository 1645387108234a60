#pragma once
// The replies of one connection that may not leave yet, in request order.
//
// A reply is staged with the LSN that must be durable before it may be sent
// (design §3 "Replies wait for durability"). A command forwarded to the shard
// that owns its job leaves a *hole* in its place: the commands pipelined
// behind it run and stage their replies meanwhile, and the owner's answer is
// filled in when it comes back. Bytes leave strictly in order: never past an
// unfilled hole, never past a reply whose LSN is not durable yet.
//
// Each reply also carries what the shard times it by (net/command_kind.h):
// its command and the monotonic time the command was read; Release() hands
// these to the caller as the replies leave.
//
// Thread affinity: the shard thread that owns the connection.

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>

#include "core/types.h"
#include "net/command_kind.h"

namespace werk::net {

class ReplyQueue {
 public:
  // Where a forwarded command's reply goes. Stays valid until Fill() or
  // Clear() (the queue's marks live in a deque and are only ever added at
  // the back and removed at the front).
  struct Mark {
    size_t end;  // bytes of the queue up to and including this mark's
    uint64_t lsn;
    int64_t read_ns = 0;   // when its command was read (monotonic)
    uint32_t replies = 1;  // replies of one LSN, command and read time share a mark
    CommandKind command = CommandKind::kUntimed;
  };
  using Hole = Mark*;

  // Stages `bytes`, the reply to a `command` read at `read_ns`, behind
  // everything staged so far.
  void Append(std::string_view bytes, core::Lsn lsn,
              CommandKind command = CommandKind::kUntimed, int64_t read_ns = 0) {
    bytes_.append(bytes);
    if (!marks_.empty() && marks_.back().lsn == lsn.value() &&
        marks_.back().command == command && marks_.back().read_ns == read_ns) {
      marks_.back().end = bytes_.size();
      ++marks_.back().replies;
    } else {
      marks_.push_back({bytes_.size(), lsn.value(), read_ns, 1, command});
    }
  }

  // Reserves the place of a reply that is not known yet.
  Hole OpenHole(CommandKind command = CommandKind::kUntimed, int64_t read_ns = 0) {
    marks_.push_back({bytes_.size(), kUnfilled, read_ns, 1, command});
    ++holes_;
    return &marks_.back();
  }

  // Puts the reply in its place; it may leave once `lsn` is durable (and
  // everything before it has left).
  void Fill(Hole hole, std::string_view bytes, core::Lsn lsn) {
    const size_t start = hole->end;
    bytes_.insert(start, bytes);
    hole->lsn = lsn.value();
    bool after = false;
    for (Mark& m : marks_) {
      if (after) m.end += bytes.size();
      if (&m == hole) {
        m.end += bytes.size();
        after = true;
      }
    }
    --holes_;
  }

  // Moves to `out` every reply that may leave now, calling
  // on_reply(command, read_ns, replies) for each mark that leaves. Returns
  // whether any did.
  template <class OnReply>
  bool Release(core::Lsn durable, std::string* out, OnReply&& on_reply) {
    size_t upto = 0;
    while (!marks_.empty() && marks_.front().lsn <= durable.value()) {
      const Mark& m = marks_.front();
      upto = m.end;
      on_reply(m.command, m.read_ns, m.replies);
      marks_.pop_front();
    }
    if (upto == 0) return false;
    if (upto == bytes_.size() && out->empty()) {
      out->swap(bytes_);
      bytes_.clear();
    } else {
      out->append(bytes_, 0, upto);
      bytes_.erase(0, upto);
    }
    for (Mark& m : marks_) m.end -= upto;
    return true;
  }
  bool Release(core::Lsn durable, std::string* out) {
    return Release(durable, out, [](CommandKind, int64_t, uint32_t) {});
  }

  // Every staged reply that waits for an LSN above `durable` will never be
  // released (the shard refuses writes: the standby is gone): each becomes
  // `error`, in its place, and may leave at once. Holes stay (their answers
  // come from other shards, which decide for themselves).
  void Refuse(core::Lsn durable, std::string_view error) {
    std::string out;
    size_t start = 0;
    for (Mark& m : marks_) {
      const size_t end = m.end;
      if (m.lsn != kUnfilled && m.lsn > durable.value()) {
        for (uint32_t i = 0; i < m.replies; ++i) out.append(error);
        m.lsn = 0;
      } else {
        out.append(bytes_, start, end - start);
      }
      start = end;
      m.end = out.size();
    }
    bytes_.swap(out);
  }

  // Staged bytes (filled holes included).
  size_t bytes() const { return bytes_.size(); }
  // Forwarded commands whose reply has not come back.
  size_t holes() const { return holes_; }
  // Nothing staged and no reply outstanding.
  bool empty() const { return marks_.empty(); }
  // Drops everything (the connection is closing); holes become invalid.
  void Clear() {
    bytes_.clear();
    marks_.clear();
    holes_ = 0;
  }

 private:
  static constexpr uint64_t kUnfilled = std::numeric_limits<uint64_t>::max();
  std::string bytes_;
  std::deque<Mark> marks_;
  size_t holes_ = 0;
};

}  // namespace werk::net
