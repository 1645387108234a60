#include "wal/checkpoint_receiver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "wal/checkpoint.h"
#include "wal/log_format.h"

namespace werk::wal {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(Errno("open " + dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(Errno("fsync " + dir));
  return absl::OkStatus();
}

}  // namespace

CheckpointReceiver::CheckpointReceiver(Options options) : options_(std::move(options)) {}

CheckpointReceiver::~CheckpointReceiver() {
  if (fd_ >= 0) ::close(fd_);
}

std::string CheckpointReceiver::path() const {
  return options_.dir + "/" + CheckpointName(options_.lsn.value());
}

absl::StatusOr<std::unique_ptr<CheckpointReceiver>> CheckpointReceiver::Open(Options options) {
  namespace fs = std::filesystem;
  std::unique_ptr<CheckpointReceiver> r(new CheckpointReceiver(std::move(options)));
  const std::string& dir = r->options_.dir;
  std::error_code ec;
  // What an earlier attempt left is not trusted: the staging directory
  // starts empty.
  fs::remove_all(dir, ec);
  if (ec) return absl::InternalError("remove " + dir + ": " + ec.message());
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError("create " + dir + ": " + ec.message());
  if (auto st = SyncDir(fs::path(dir).parent_path().string()); !st.ok()) return st;
  const std::string part = r->path() + ".part";
  r->fd_ = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (r->fd_ < 0) return absl::InternalError(Errno("create " + part));
  return r;
}

absl::Status CheckpointReceiver::Fail(absl::Status st) {
  error_ = st;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(path() + ".part", ec);
  return st;
}

absl::Status CheckpointReceiver::Take(const CheckpointChunk& c) {
  if (!error_.ok()) return error_;
  const std::string what = "bootstrap of shard " + std::to_string(options_.shard) +
                           " from the checkpoint at LSN " +
                           std::to_string(options_.lsn.value()) + ": ";
  if (complete_)
    return Fail(absl::DataLossError(what + "a chunk after the last one (offset " +
                                    std::to_string(c.offset) + ")"));
  if (c.offset != written_)
    return Fail(absl::DataLossError(what + "a chunk at offset " + std::to_string(c.offset) +
                                    " where " + std::to_string(written_) + " was expected"));
  if (written_ + c.data.size() > options_.bytes || c.last != (written_ + c.data.size() ==
                                                               options_.bytes))
    return Fail(absl::DataLossError(
        what + "a chunk of " + std::to_string(c.data.size()) + " bytes at offset " +
        std::to_string(c.offset) + (c.last ? " (the last)" : "") + " does not end where the " +
        std::to_string(options_.bytes) + " bytes announced do"));
  size_t done = 0;
  while (done < c.data.size()) {
    const ssize_t n = ::pwrite(fd_, c.data.data() + done, c.data.size() - done,
                               off_t(written_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(absl::InternalError(what + Errno("write " + path() + ".part")));
    done += size_t(n);
  }
  written_ += c.data.size();
  if (!c.last) return absl::OkStatus();
  if (auto st = Seal(); !st.ok()) return Fail(st);
  complete_ = true;
  return absl::OkStatus();
}

absl::Status CheckpointReceiver::Seal() {
  const std::string part = path() + ".part";
  const std::string what = "bootstrap of shard " + std::to_string(options_.shard) +
                           " from the checkpoint at LSN " +
                           std::to_string(options_.lsn.value()) + ": ";
  if (::fdatasync(fd_) != 0) return absl::InternalError(what + Errno("fdatasync " + part));
  ::close(fd_);
  fd_ = -1;
  // The image as the disk holds it, checked whole before anything uses it.
  std::string image(options_.bytes, '\0');
  const int fd = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(what + Errno("open " + part));
  size_t got = 0;
  while (got < image.size()) {
    const ssize_t n = ::pread(fd, image.data() + got, image.size() - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
  if (got != image.size())
    return absl::DataLossError(what + part + " reads back " + std::to_string(got) + " of " +
                               std::to_string(image.size()) + " bytes");
  CheckpointHeader h;
  absl::Status st = LoadCheckpoint(image, options_.shard, &h,
                                   [](core::SnapshotItemType, std::string_view) { return true; });
  if (!st.ok())
    return absl::DataLossError(what + "the image received does not verify: " +
                               std::string(st.message()));
  if (h.lsn != options_.lsn.value())
    return absl::DataLossError(what + "the image received is of LSN " + std::to_string(h.lsn));
  if (::rename(part.c_str(), path().c_str()) != 0)
    return absl::InternalError(what + Errno("rename " + part));
  return SyncDir(options_.dir);
}

}  // namespace werk::wal
