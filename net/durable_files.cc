#include "net/durable_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace werk::net {

namespace fs = std::filesystem;

namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(what + ": " + std::strerror(errno));
}

}  // namespace

absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync " + path);
}

absl::Status WriteSynced(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path);
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Errno("write " + path);
    }
    off += size_t(n);
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync " + path);
}

absl::Status Rename(const std::string& from, const std::string& to, const std::string& parent) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename " + from + " to " + to);
  return SyncPath(parent);
}

absl::Status RemoveTree(const std::string& path, const std::string& parent) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return absl::InternalError("remove " + path + ": " + ec.message());
  return SyncPath(parent);
}

absl::Status ReplaceAtomically(const std::string& path, std::string_view data,
                               const std::string& parent) {
  const std::string tmp = path + ".tmp";
  if (auto st = WriteSynced(tmp, data); !st.ok()) return st;
  return Rename(tmp, path, parent);
}

}  // namespace werk::net
