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
// Thread affinity: the shard thread that owns the connection.

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>

#include "core/types.h"

namespace werk::net {

class ReplyQueue {
 public:
  // Where a forwarded command's reply goes. Stays valid until Fill() or
  // Clear() (the queue's marks live in a deque and are only ever added at
  // the back and removed at the front).
  struct Mark {
    size_t end;  // bytes of the queue up to and including this mark's
    uint64_t lsn;
    uint32_t replies = 1;  // replies in this mark (those of one LSN share it)
  };
  using Hole = Mark*;

  // Stages `bytes` behind everything staged so far.
  void Append(std::string_view bytes, core::Lsn lsn) {
    bytes_.append(bytes);
    if (!marks_.empty() && marks_.back().lsn == lsn.value()) {
      marks_.back().end = bytes_.size();
      ++marks_.back().replies;
    } else {
      marks_.push_back({bytes_.size(), lsn.value()});
    }
  }

  // Reserves the place of a reply that is not known yet.
  Hole OpenHole() {
    marks_.push_back({bytes_.size(), kUnfilled});
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

  // Moves to `out` every reply that may leave now. Returns whether any did.
  bool Release(core::Lsn durable, std::string* out) {
    size_t upto = 0;
    while (!marks_.empty() && marks_.front().lsn <= durable.value()) {
      upto = marks_.front().end;
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
