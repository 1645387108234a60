#include "wal/log_followers.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace werk::wal {

namespace {

// The LSN and body length of the frame at `at` (written by this process:
// its header is checked when it is delivered, not while seeking).
uint64_t FrameLsn(const LogBatch& b, size_t at) {
  uint64_t lsn;
  std::memcpy(&lsn, b.data.data() + at + 16, sizeof lsn);
  return lsn;
}
size_t FrameBytes(const LogBatch& b, size_t at) {
  uint32_t body;
  std::memcpy(&body, b.data.data() + at + 32, sizeof body);
  return kFrameHeaderBytes + body;
}

}  // namespace

LogCursor::~LogCursor() {
  if (log_) log_->Remove(this);
}

absl::StatusOr<size_t> LogCursor::Read(size_t bytes_max,
                                       absl::FunctionRef<bool(const FollowedRecord&)> take) {
  if (!log_) return absl::FailedPreconditionError("the log this cursor followed is closed");
  return log_->Read(*this, bytes_max, take);
}

LogFollowers::LogFollowers(const core::Journal& log, const std::deque<LogBatch>& pending,
                           size_t retained_bytes_max)
    : log_(log), pending_(pending), retained_bytes_max_(retained_bytes_max) {}

LogFollowers::~LogFollowers() {
  for (LogCursor* c : cursors_) c->log_ = nullptr;
}

absl::StatusOr<std::unique_ptr<LogCursor>> LogFollowers::Follow(core::Lsn from,
                                                                FollowOptions options) {
  const uint64_t end = log_.appended_lsn().value() + 1;
  if (from.value() == 0 || from.value() > end) {
    return absl::InvalidArgumentError("cannot follow the log from LSN " +
                                      std::to_string(from.value()) + ": the next LSN is " +
                                      std::to_string(end));
  }
  if (const uint64_t oldest = OldestReadable(); from.value() < oldest) {
    return absl::OutOfRangeError("LSN " + std::to_string(from.value()) +
                                 " is no longer kept for followers (the oldest is " +
                                 std::to_string(oldest) + "): start from a checkpoint");
  }
  std::unique_ptr<LogCursor> c(new LogCursor(this, from, options));
  cursors_.push_back(c.get());
  return c;
}

void LogFollowers::Remove(LogCursor* c) {
  WERK_CHECK(!notifying_);  // a listener must not destroy a cursor
  cursors_.erase(std::find(cursors_.begin(), cursors_.end(), c));
  Trim(false);
}

void LogFollowers::Retain(LogBatch&& batch) {
  WERK_DCHECK(batch.records > 0);
  WERK_DCHECK(retained_.empty() || retained_.back().last_lsn + 1 == batch.first_lsn);
  // A batch nearly empty (a quiet log's few records) is kept at its size: a
  // copy of at most an eighth of its buffer, against keeping all of it.
  if (batch.data.capacity() > 8 * batch.data.size()) batch.data.shrink_to_fit();
  retained_bytes_ += batch.data.capacity();
  retained_.push_back(std::move(batch));
  Trim(false);
}

void LogFollowers::Trim(bool bound) {
  if (cursors_.empty()) {
    retained_.clear();
    retained_bytes_ = 0;
    return;
  }
  uint64_t slowest = UINT64_MAX;
  for (const LogCursor* c : cursors_) slowest = std::min(slowest, c->next_);
  while (!retained_.empty()) {
    const LogBatch& b = retained_.front();
    if (b.last_lsn >= slowest) {
      if (!bound || retained_bytes_ <= retained_bytes_max_ || retained_.size() == 1) break;
      // Beyond the bound: the cursors still in this batch fall behind.
      for (const LogCursor* c : cursors_)
        fell_behind_ += c->next_ >= b.first_lsn && c->next_ <= b.last_lsn;
    }
    retained_bytes_ -= b.data.capacity();
    retained_.pop_front();
  }
}

uint64_t LogFollowers::OldestReadable() const {
  return retained_.empty() ? log_.durable_lsn().value() + 1 : retained_.front().first_lsn;
}

uint64_t LogFollowers::Horizon(const LogCursor& c) const {
  if (c.options_.reach == FollowOptions::Reach::kAppended && !log_.failed())
    return log_.appended_lsn().value();
  return log_.durable_lsn().value();
}

const LogBatch* LogFollowers::Find(uint64_t lsn) const {
  // Batches hold contiguous LSNs and their last LSNs never decrease (a
  // marker alone holds none: its last LSN is the one before the next).
  for (const std::deque<LogBatch>* q : {&retained_, &pending_}) {
    auto it = std::partition_point(q->begin(), q->end(),
                                   [lsn](const LogBatch& b) { return b.last_lsn < lsn; });
    if (it != q->end() && it->first_lsn <= lsn) return &*it;
  }
  return nullptr;
}

absl::StatusOr<size_t> LogFollowers::Read(LogCursor& c, size_t bytes_max,
                                          absl::FunctionRef<bool(const FollowedRecord&)> take) {
  if (c.next_ < OldestReadable()) {
    return absl::OutOfRangeError("the follower at LSN " + std::to_string(c.next_) +
                                 " fell behind what the log keeps for followers (the oldest is " +
                                 std::to_string(OldestReadable()) + ", at most " +
                                 std::to_string(retained_bytes_max_) +
                                 " bytes): start from a checkpoint");
  }
  const uint64_t durable = log_.durable_lsn().value();
  const uint64_t horizon = Horizon(c);
  size_t taken = 0;
  size_t bytes = 0;
  bool stop = false;
  while (!stop && c.next_ <= horizon) {
    const LogBatch* b = Find(c.next_);
    WERK_CHECK(b != nullptr);
    size_t at = b->frames_from();
    if (c.at_batch_ == b->first_lsn && c.at_offset_ >= at) {
      at = c.at_offset_;
    } else {
      while (FrameLsn(*b, at) != c.next_) at += FrameBytes(*b, at);  // followed mid-batch
    }
    while (c.next_ <= horizon && at < b->data.size()) {
      const std::string_view frame(b->data.data() + at, FrameBytes(*b, at));
      if (taken > 0 && bytes + frame.size() > bytes_max) {
        stop = true;
        break;
      }
      FrameHeader h;
      // The bytes kept are the bytes written: they still verify.
      WERK_CHECK(DecodeFrameHeader(frame, &h, b->salt) && h.lsn == c.next_);
      FollowedRecord r;
      r.lsn = core::Lsn(h.lsn);
      r.epoch = core::Epoch(h.epoch);
      r.type = RecordType(h.type);
      r.body = frame.substr(kFrameHeaderBytes);
      r.frame = frame;
      r.segment_id = b->segment_id;
      r.salt = b->salt;
      r.durable = h.lsn <= durable;
      if (!take(r)) {
        stop = true;
        break;
      }
      ++taken;
      bytes += frame.size();
      at += frame.size();
      ++c.next_;
    }
    c.at_batch_ = b->first_lsn;
    c.at_offset_ = at;
  }
  if (taken == 0 && log_.failed() && c.next_ > durable) {
    return absl::FailedPreconditionError("the log failed (" + failure_ + "): nothing after LSN " +
                                         std::to_string(durable) + " will be durable");
  }
  if (taken > 0) Trim(false);
  return taken;
}

void LogFollowers::Notify() {
  const bool failed = log_.failed();
  const uint64_t oldest = OldestReadable();
  notifying_ = true;
  for (size_t i = 0; i < cursors_.size(); ++i) {
    LogCursor& c = *cursors_[i];
    if (!c.options_.listener) continue;
    const uint64_t horizon = Horizon(c);
    bool tell = false;
    if (c.next_ < oldest) {
      tell = !c.told_behind_;
      c.told_behind_ = true;
    } else if (horizon > c.told_ && c.next_ <= horizon) {
      tell = true;
      c.told_ = horizon;
    }
    if (failed && !c.told_failed_) {
      tell = true;
      c.told_failed_ = true;
    }
    if (tell) c.options_.listener->OnReadable(c);
  }
  notifying_ = false;
  // Only now, once every follower had its chance to read what became
  // durable in this iteration, does the bound let go of what they have not.
  Trim(true);
}

}  // namespace werk::wal
