#include "net/data_dir_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
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

// Whether `pid` is exiting or already a zombie: killed, its files (the lock
// among them) are being closed, which with an io_uring being torn down can
// take a moment. /proc/<pid>/stat: "pid (comm) state ppid pgrp session tty
// tpgid flags ..."; PF_EXITING is 0x4 in flags.
bool Dying(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 1));
  char state = 0;
  long ppid = 0, pgrp = 0, session = 0, tty = 0, tpgid = 0;
  unsigned long flags = 0;
  if (!(fields >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags)) return false;
  return state == 'Z' || state == 'X' || (flags & 0x4) != 0;
}

bool Running(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM) && !Dying(pid);
}

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
