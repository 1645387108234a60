#pragma once
// One server per data directory: werkd holds an exclusive lock on
// `<data dir>/LOCK` for its whole life, taken before recovery reads
// anything. The lock is an open-file-description lock (fcntl F_OFD_SETLK):
// the kernel drops it when the process ends, however it ends, so a crash
// leaves nothing to clean up. The file also holds the holder's PID, for the
// message a second server (or an operator's tool) shows.

#include <sys/types.h>

#include <optional>
#include <string>

#include <absl/status/statusor.h>

namespace werk::net {

inline constexpr char kLockFileName[] = "LOCK";

class DataDirLock {
 public:
  // Takes the lock, or fails naming the directory and the holder's PID. A
  // holder that has just exited may still hold it for a moment (its last
  // files close after it is gone): the lock is retried for up to `wait_ms`
  // while the recorded holder no longer runs (or is exiting, or a zombie
  // its parent has not reaped yet).
  static absl::StatusOr<DataDirLock> Acquire(const std::string& data_dir, int wait_ms = 5000);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Who holds `data_dir`'s lock, without taking it (readers such as
// werk-wal-dump): nullopt when nobody does; else the PID recorded in the
// file (0 when it cannot be read).
std::optional<pid_t> DataDirLockHolder(const std::string& data_dir);

}  // namespace werk::net
