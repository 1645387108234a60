#pragma once
// A test follower of a Wal (wal/log_follower.h) that checks what it is
// given: LSNs in order from where it started, each once and without gaps,
// the bodies that were appended, and nothing flagged durable beyond the
// log's durable LSN. It keeps a copy of every record it took.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/support/mem_storage.h"
#include "tests/wal/log_fixture.h"
#include "wal/log_follower.h"
#include "wal/wal.h"

namespace werk::testing {

// Appends records of varied sizes straight to the log and remembers them.
class RecordSource {
 public:
  explicit RecordSource(uint64_t seed = 7) : rng_(seed) {}
  uint64_t Append(wal::Wal& wal) {
    const uint64_t lsn = wal.appended_lsn().value() + 1;
    std::string body = "record-" + std::to_string(lsn) + "-";
    body.append(size_t(rng_() % 300), char('a' + lsn % 26));
    EXPECT_EQ(wal.Append(body).value(), lsn);
    bodies_[lsn] = std::move(body);
    return lsn;
  }
  const std::string& body(uint64_t lsn) const { return bodies_.at(lsn); }

 private:
  std::mt19937_64 rng_;
  std::map<uint64_t, std::string> bodies_;
};

// One loop iteration as the shard runtime runs it for the log: commit, the
// I/O completes (at most `completions` of it), then the participants hear
// what is durable, or that the log failed.
inline void Turn(wal::Wal& wal, MemStorage& storage, size_t completions = SIZE_MAX) {
  wal.Commit();
  storage.RunPending(completions);
  if (wal.failed()) {
    wal.OnLogFailed();
  } else {
    wal.OnDurable(wal.durable_lsn());
  }
}

class CheckingFollower final : public wal::LogListener {
 public:
  struct Got {
    uint64_t lsn;
    std::string frame;
    uint64_t segment_id;
    uint64_t salt;
    bool durable;
  };

  CheckingFollower(wal::Wal& wal, const RecordSource& source, uint64_t from,
                   wal::FollowOptions::Reach reach = wal::FollowOptions::Reach::kDurable)
      : wal_(wal), source_(source), next_(from) {
    auto c = wal.Follow(core::Lsn(from), {.reach = reach, .listener = this});
    EXPECT_TRUE(c.ok()) << c.status();
    if (c.ok()) cursor_ = std::move(*c);
  }

  // Whether it reads when told (else it takes nothing until Drain()).
  void set_reads_when_told(bool on) { reads_when_told_ = on; }
  void OnReadable(wal::LogCursor& c) override {
    EXPECT_EQ(&c, cursor_.get());
    ++told_;
    if (reads_when_told_) last_ = Drain();
  }

  // One Read of at most `budget` bytes of frames.
  absl::StatusOr<size_t> ReadOnce(size_t budget) {
    size_t bytes = 0;
    auto n = cursor_->Read(budget, [&](const wal::FollowedRecord& r) {
      Check(r);
      bytes += r.frame.size();
      return true;
    });
    if (n.ok() && *n > 1) {
      EXPECT_LE(bytes, budget);
    }
    return n;
  }
  // Reads until nothing is left, `budget` bytes of frames per Read.
  absl::Status Drain(size_t budget = SIZE_MAX) {
    for (;;) {
      auto n = ReadOnce(budget);
      if (!n.ok()) return n.status();
      if (*n == 0) return absl::OkStatus();
    }
  }

  wal::LogCursor& cursor() { return *cursor_; }
  void Close() { cursor_.reset(); }
  const std::vector<Got>& got() const { return got_; }
  uint64_t next() const { return next_; }
  int told() const { return told_; }
  const absl::Status& last() const { return last_; }

 private:
  void Check(const wal::FollowedRecord& r) {
    EXPECT_EQ(r.lsn.value(), next_) << "out of order or with a gap";
    EXPECT_EQ(r.body, source_.body(r.lsn.value()));
    EXPECT_EQ(r.type, wal::RecordType::kMutation);
    EXPECT_EQ(r.frame.substr(wal::kFrameHeaderBytes), r.body);
    EXPECT_EQ(r.durable, r.lsn <= wal_.durable_lsn());
    wal::FrameHeader h;
    EXPECT_TRUE(wal::DecodeFrameHeader(r.frame, &h, r.salt));
    got_.push_back({r.lsn.value(), std::string(r.frame), r.segment_id, r.salt, r.durable});
    next_ = r.lsn.value() + 1;
  }

  wal::Wal& wal_;
  const RecordSource& source_;
  uint64_t next_;
  std::unique_ptr<wal::LogCursor> cursor_;
  bool reads_when_told_ = true;
  int told_ = 0;
  absl::Status last_;
  std::vector<Got> got_;
};

}  // namespace werk::testing
