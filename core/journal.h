#pragma once
// The Journal port (design §3 "Replies wait for durability"): where a shard's
// encoded mutations go before a client may see their effect. Declared here,
// implemented by wal/ (the write-ahead log) and by VolatileJournal below.
//
// Contract: Append() assigns consecutive LSNs and never blocks. Commit() is
// called once per loop iteration and starts making everything appended so far
// durable (one write + fdatasync for the whole batch: group commit). The
// durable LSN only grows; a reply that depends on record N is released when
// durable_lsn() >= N. A failed journal stays failed.

#include <string_view>

#include "core/types.h"

namespace werk::core {

class Journal {
 public:
  virtual ~Journal() = default;
  virtual Lsn Append(std::string_view record) = 0;
  virtual void Commit() = 0;
  virtual Lsn appended_lsn() const = 0;
  virtual Lsn durable_lsn() const = 0;
  virtual bool failed() const = 0;
  // True while a commit is under way (the loop must not sleep forever).
  virtual bool commit_pending() const { return durable_lsn() < appended_lsn(); }
  // No request of the journal is in flight (the process may exit).
  virtual bool io_idle() const { return true; }
  // True while the shard refuses every write because what it appends cannot
  // be acknowledged (a primary whose standby is gone, in required mode).
  // Then nothing a reply or a result says depends on a record that is not
  // durable — writes are refused, and what the shard logs itself (timers) is
  // shown only once durable — so replies and results need not wait.
  virtual bool writes_refused() const { return false; }
};

// Keeps nothing: every record is "durable" as soon as Commit() runs. For unit
// tests of the layers above, and for the explicitly non-durable mode.
class VolatileJournal final : public Journal {
 public:
  Lsn Append(std::string_view) override {
    appended_ = appended_.next();
    ++records_;
    return appended_;
  }
  void Commit() override {
    if (fail_at_commit_) failed_ = true;
    if (!failed_) durable_ = appended_;
  }
  Lsn appended_lsn() const override { return appended_; }
  Lsn durable_lsn() const override { return durable_; }
  bool failed() const override { return failed_; }
  uint64_t records() const { return records_; }
  // Tests: the next Commit() fails, as a disk error would; nothing appended
  // since the last one becomes durable.
  void FailAtNextCommit() { fail_at_commit_ = true; }

 private:
  Lsn appended_{0};
  Lsn durable_{0};
  uint64_t records_ = 0;
  bool fail_at_commit_ = false;
  bool failed_ = false;
};

}  // namespace werk::core
