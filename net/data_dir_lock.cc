#include "net/data_dir_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <absl/strings/numbers.h>
#include <absl/strings/ascii.h>

namespace werk::net {

namespace {

std::string LockPath(const std::string& data_dir) { return data_dir + "/" + kLockFileName; }

pid_t ReadHolder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  int64_t pid = 0;
  if (n <= 0 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, size_t(n))), &pid))
    return 0;
  return pid_t(pid);
}

// The whole file, for writing (F_WRLCK) or as a probe.
struct flock WholeFile(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  return fl;
}

bool Running(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

absl::StatusOr<DataDirLock> DataDirLock::Acquire(const std::string& data_dir, int wait_ms) {
  const std::string path = LockPath(data_dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return absl::FailedPreconditionError("cannot open " + path + ": " + std::strerror(errno));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    struct flock fl = WholeFile(F_WRLCK);
    if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) break;
    const int err = errno;
    if (err != EAGAIN && err != EACCES) {
      ::close(fd);
      return absl::FailedPreconditionError("cannot lock " + path + ": " + std::strerror(err));
    }
    const pid_t holder = ReadHolder(fd);
    if (!Running(holder) && holder != 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ::close(fd);
    return absl::FailedPreconditionError(
        "the data directory " + data_dir + " is in use by another werkd" +
        (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) +
        ": one server per data directory (" + path + " is locked)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    const int err = errno;
    ::close(fd);
    return absl::FailedPreconditionError("cannot write " + path + ": " + std::strerror(err));
  }
  return DataDirLock(fd);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<pid_t> DataDirLockHolder(const std::string& data_dir) {
  const int fd = ::open(LockPath(data_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock fl = WholeFile(F_WRLCK);
  std::optional<pid_t> holder;
  if (::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) holder = ReadHolder(fd);
  ::close(fd);
  return holder;
}

}  // namespace werk::net
