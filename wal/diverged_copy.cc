#include "wal/diverged_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "wal/log_format.h"

namespace werk::wal {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(const std::string& what) {
  return absl::InternalError(what + ": " + std::strerror(errno));
}

absl::Status SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("cannot sync " + path);
}

// Copies one file and fsyncs the copy; returns its size.
absl::StatusOr<uint64_t> CopyFile(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("cannot open " + from);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return Errno("cannot create " + to);
  }
  std::string buf(1u << 20, '\0');
  uint64_t total = 0;
  absl::Status st;
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Errno("cannot read " + from);
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buf.data() + done, size_t(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        st = Errno("cannot write " + to);
        break;
      }
      done += w;
    }
    if (!st.ok()) break;
    total += uint64_t(n);
  }
  if (st.ok() && ::fsync(out) != 0) st = Errno("cannot sync " + to);
  ::close(in);
  ::close(out);
  if (!st.ok()) return st;
  return total;
}

bool IsLogFile(const std::string& name) {
  uint64_t v;
  return ParseSegmentName(name, &v) || ParseCheckpointName(name, &v);
}

}  // namespace

std::string DivergedDirName(core::Epoch epoch, int64_t unix_seconds) {
  return "diverged-e" + std::to_string(epoch.value()) + "-" + std::to_string(unix_seconds);
}

absl::StatusOr<CopyReport> CopyShardDir(const std::string& from_dir, const std::string& to_dir) {
  std::error_code ec;
  if (fs::exists(to_dir, ec))
    return absl::AlreadyExistsError(to_dir + " exists: a copy is never written over");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(from_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && IsLogFile(name)) names.push_back(name);
  }
  if (ec) return absl::InternalError("cannot list " + from_dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  const fs::path to(to_dir);
  // Each directory created is synced in its parent, up to one that existed.
  std::vector<fs::path> created;
  for (fs::path p = to; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(to, ec);
  if (ec) return absl::InternalError("cannot create " + to_dir + ": " + ec.message());
  CopyReport report;
  for (const std::string& name : names) {
    auto bytes = CopyFile(from_dir + "/" + name, to_dir + "/" + name);
    if (!bytes.ok()) return bytes.status();
    report.files.push_back(name);
    report.bytes += *bytes;
  }
  if (auto st = SyncDir(to_dir); !st.ok()) return st;
  for (const fs::path& p : created) {
    const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (auto st = SyncDir(parent.string()); !st.ok()) return st;
  }
  return report;
}

}  // namespace werk::wal
