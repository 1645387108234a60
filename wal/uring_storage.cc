#include "wal/uring_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace werk::wal {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::Status(absl::ErrnoToStatusCode(errno), what + ": " + std::strerror(errno));
}

// One io_uring request whose completion runs `fn` and frees itself.
struct Step final : core::IoCompletion {
  std::function<void(int32_t)> fn;
  explicit Step(std::function<void(int32_t)> f) : fn(std::move(f)) {}
  void Complete(int32_t res, uint32_t) override {
    auto f = std::move(fn);
    delete this;
    f(res);
  }
};

io_uring_sqe* Sqe(core::Reactor* r, std::function<void(int32_t)> fn) {
  return r->Sqe(new Step(std::move(fn)));
}

// Buffered segment writer: a write linked to an fdatasync. Each call has its
// own completion object, so two may be in flight (the log pipelines batches).
class UringSegmentFile final : public SegmentFile {
 public:
  UringSegmentFile(core::Reactor* r, int fd, bool sync) : reactor_(r), fd_(fd), sync_(sync) {}
  ~UringSegmentFile() override { ::close(fd_); }
  int concurrent_writes_max() const override { return 2; }

  void WriteDurable(uint64_t offset, std::string_view data, IoDone done) override {
    (new WriteOp(this, offset, data, std::move(done)))->Submit();
  }

 private:
  // Two linked requests (write, then fdatasync) share one completion.
  struct WriteOp final : core::IoCompletion {
    WriteOp(UringSegmentFile* f, uint64_t off, std::string_view d, IoDone dn)
        : file(f), offset(off), data(d), done(std::move(dn)) {}
    void Submit() {
      write_seen = false;
      write_res = sync_res = 0;
      io_uring_sqe* w = file->reactor_->Sqe(this);
      io_uring_prep_write(w, file->fd_, data.data() + written, unsigned(data.size() - written),
                          offset + written);
      pending = 1;
      if (file->sync_) {
        w->flags |= IOSQE_IO_LINK;
        io_uring_prep_fsync(file->reactor_->Sqe(this), file->fd_, IORING_FSYNC_DATASYNC);
        pending = 2;
      }
    }
    void Complete(int32_t res, uint32_t) override {
      if (!write_seen) {
        write_seen = true;
        write_res = res;
      } else {
        sync_res = res;
      }
      if (--pending > 0) return;
      if (write_res < 0) return Finish(write_res);
      written += size_t(write_res);
      if (written < data.size()) {
        // Short write: the linked sync was cancelled; write the rest.
        Submit();
        return;
      }
      if (file->sync_ && sync_res < 0) return Finish(sync_res);
      Finish(int32_t(data.size()));
    }
    void Finish(int32_t res) {
      IoDone d = std::move(done);
      delete this;
      d(res);
    }
    UringSegmentFile* file;
    uint64_t offset;
    std::string_view data;
    IoDone done;
    size_t written = 0;
    int pending = 0;
    bool write_seen = false;
    int32_t write_res = 0;
    int32_t sync_res = 0;
  };

  core::Reactor* reactor_;
  int fd_;
  bool sync_;
};

// O_DIRECT segment writer: each batch is one aligned write with RWF_DSYNC,
// which io_uring issues without a helper thread and which bypasses the page
// cache. Appends that do not end on a block boundary keep the partial last
// block in memory and write it again, with the new bytes, next time; the old
// bytes are rewritten identically, so a torn rewrite cannot damage them.
class DirectSegmentFile final : public SegmentFile, public core::IoCompletion {
 public:
  static constexpr size_t kBlock = 4096;

  DirectSegmentFile(core::Reactor* r, int fd, bool sync) : reactor_(r), fd_(fd), sync_(sync) {}
  ~DirectSegmentFile() override {
    ::close(fd_);
    std::free(buf_);
  }

  void WriteDurable(uint64_t offset, std::string_view data, IoDone done) override {
    if (!tail_known_) {
      // First write after open: fetch the partial block this append extends.
      base_ = offset & ~uint64_t(kBlock - 1);
      tail_.clear();
      if (offset > base_) {
        void* blk = nullptr;
        if (posix_memalign(&blk, kBlock, kBlock) != 0) return done(-ENOMEM);
        const ssize_t n = ::pread(fd_, blk, kBlock, off_t(base_));
        if (n < ssize_t(offset - base_)) {
          std::free(blk);
          return done(n < 0 ? -errno : -EIO);
        }
        tail_.assign(static_cast<char*>(blk), offset - base_);
        std::free(blk);
      }
      tail_known_ = true;
    }
    if (offset != base_ + tail_.size()) return done(-EINVAL);  // appends only
    const size_t total = tail_.size() + data.size();
    const size_t padded = (total + kBlock - 1) & ~(kBlock - 1);
    if (padded > cap_) {
      std::free(buf_);
      buf_ = nullptr;
      cap_ = 0;
      void* p = nullptr;
      if (posix_memalign(&p, kBlock, padded) != 0) return done(-ENOMEM);
      buf_ = static_cast<char*>(p);
      cap_ = padded;
    }
    std::memcpy(buf_, tail_.data(), tail_.size());
    std::memcpy(buf_ + tail_.size(), data.data(), data.size());
    std::memset(buf_ + total, 0, padded - total);
    total_ = total;
    padded_ = padded;
    written_ = 0;
    data_bytes_ = data.size();
    done_ = std::move(done);
    Submit();
  }

  void Complete(int32_t res, uint32_t) override {
    if (res < 0) return Finish(res);
    written_ += size_t(res);
    if (written_ < padded_) {
      if (written_ % kBlock != 0) return Finish(-EIO);
      Submit();  // a short write: the rest, still aligned
      return;
    }
    const size_t keep = total_ % kBlock;
    base_ += total_ - keep;
    tail_.assign(buf_ + total_ - keep, keep);
    Finish(int32_t(data_bytes_));
  }

 private:
  void Submit() {
    io_uring_sqe* sqe = reactor_->Sqe(this);
    io_uring_prep_write(sqe, fd_, buf_ + written_, unsigned(padded_ - written_),
                        base_ + written_);
    if (sync_) sqe->rw_flags = RWF_DSYNC;
  }
  void Finish(int32_t res) {
    auto done = std::move(done_);
    done(res);
  }

  core::Reactor* reactor_;
  int fd_;
  bool sync_;
  bool tail_known_ = false;
  uint64_t base_ = 0;  // file offset of tail_'s first byte (block aligned)
  std::string tail_;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  size_t total_ = 0, padded_ = 0, written_ = 0, data_bytes_ = 0;
  IoDone done_;
};

// A file read on the shard's ring. The descriptor is shared with the reads
// in flight: it is closed only once the file and every read of it are done,
// so a read submitted after the file went away never reads a descriptor
// number reused by another file.
class UringReadableFile final : public ReadableFile {
 public:
  struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { ::close(fd); }
    const int fd;
  };
  UringReadableFile(core::Reactor* r, int fd, std::string path)
      : reactor_(r), fd_(std::make_shared<const Fd>(fd)), path_(std::move(path)) {}

  void ReadAt(uint64_t offset, size_t len, ReadDone done) override {
    auto buf = std::make_shared<std::string>(len, '\0');
    io_uring_prep_read(Sqe(reactor_,
                           [fd = fd_, buf, path = path_, offset, done](int32_t res) {
                             if (res < 0) {
                               return done(absl::Status(
                                   absl::ErrnoToStatusCode(-res),
                                   "cannot read " + path + " at byte " + std::to_string(offset) +
                                       ": " + std::strerror(-res)));
                             }
                             buf->resize(size_t(res));
                             done(std::move(*buf));
                           }),
                       fd_->fd, buf->data(), unsigned(len), offset);
  }

 private:
  core::Reactor* reactor_;
  std::shared_ptr<const Fd> fd_;
  std::string path_;
};

// The segment writer for `path`: O_DIRECT when the file system supports it
// (and it is not disabled), buffered writes + fdatasync otherwise.
std::unique_ptr<SegmentFile> MakeSegmentFile(core::Reactor* r, const std::string& path,
                                             int buffered_fd, bool sync, bool direct) {
  if (direct) {
    const int fd = ::open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd >= 0) {
      ::close(buffered_fd);
      return std::make_unique<DirectSegmentFile>(r, fd, sync);
    }
  }
  return std::make_unique<UringSegmentFile>(r, buffered_fd, sync);
}

}  // namespace

absl::StatusOr<std::unique_ptr<UringStorage>> UringStorage::Open(const std::string& dir,
                                                                  core::Reactor* reactor,
                                                                  Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create " + dir + ": " + ec.message());
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + dir);
  // The directory entry itself must survive a crash.
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  if (int pfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      pfd >= 0) {
    ::fsync(pfd);
    ::close(pfd);
  }
  return std::unique_ptr<UringStorage>(new UringStorage(dir, fd, reactor, options));
}

UringStorage::~UringStorage() { ::close(dir_fd_); }

std::vector<std::string> UringStorage::List() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::string> UringStorage::ReadAll(const std::string& name) {
  const int fd = ::open(Path(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + Path(name));
  struct stat st;
  ::fstat(fd, &st);
  std::string data(size_t(st.st_size), '\0');
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::pread(fd, data.data() + off, data.size() - off, off_t(off));
    if (n <= 0) {
      ::close(fd);
      return n == 0 ? absl::DataLossError(Path(name) + " shrank while being read")
                    : Errno("cannot read " + Path(name));
    }
    off += size_t(n);
  }
  ::close(fd);
  return data;
}

absl::Status UringStorage::Remove(const std::string& name) {
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT)
    return Errno("cannot remove " + Path(name));
  if (::fsync(dir_fd_) != 0) return Errno("cannot sync " + dir_);
  return absl::OkStatus();
}

absl::Status UringStorage::Overwrite(const std::string& name, uint64_t offset,
                                     std::string_view data) {
  const int fd = ::open(Path(name).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + Path(name));
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, off_t(offset + off));
    if (n <= 0) {
      ::close(fd);
      return Errno("cannot write " + Path(name));
    }
    off += size_t(n);
  }
  const bool ok = ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("cannot sync " + Path(name));
  return absl::OkStatus();
}

absl::Status UringStorage::Sync(const std::string& name) {
  const int fd = ::open(Path(name).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + Path(name));
  const bool ok = ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("cannot sync " + Path(name));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SegmentFile>> UringStorage::Open(const std::string& name) {
  const int fd = ::open(Path(name).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + Path(name));
  return MakeSegmentFile(reactor_, Path(name), fd, !options_.unsafe_no_sync, options_.direct_io);
}

void UringStorage::CreatePreallocated(
    const std::string& name, uint64_t bytes,
    std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) {
  auto fail = [done, path = Path(name)](const char* what, int32_t res) {
    done(absl::Status(absl::ErrnoToStatusCode(-res),
                      std::string(what) + " " + path + ": " + std::strerror(-res)));
  };
  auto path = std::make_shared<std::string>(Path(name));
  io_uring_prep_openat(
      Sqe(reactor_,
          [this, path, bytes, done, fail](int32_t fd) {
            if (fd < 0) return fail("cannot create", fd);
            io_uring_prep_fallocate(
                Sqe(reactor_,
                    [this, path, fd, done, fail](int32_t res) {
                      if (res < 0 && res != -EOPNOTSUPP) {
                        ::close(fd);
                        return fail("cannot preallocate", res);
                      }
                      io_uring_prep_fsync(
                          Sqe(reactor_,
                              [this, path, fd, done, fail](int32_t res) {
                                if (res < 0) {
                                  ::close(fd);
                                  return fail("cannot sync", res);
                                }
                                io_uring_prep_fsync(
                                    Sqe(reactor_,
                                        [this, path, fd, done, fail](int32_t res) {
                                          if (res < 0) {
                                            ::close(fd);
                                            return fail("cannot sync the directory of", res);
                                          }
                                          done(MakeSegmentFile(reactor_, *path, fd,
                                                               !options_.unsafe_no_sync,
                                                               options_.direct_io));
                                        }),
                                    dir_fd_, 0);
                              }),
                          fd, 0);
                    }),
                fd, 0, 0, off_t(bytes));
          }),
      AT_FDCWD, path->c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
}

namespace {

// tmp file: open -> write (repeated if short) -> fsync -> close -> rename ->
// fsync(dir). One heap object walks the steps and frees itself at the end.
class AtomicWriter final : public core::IoCompletion {
 public:
  AtomicWriter(core::Reactor* r, int dir_fd, std::string tmp, std::string path,
               std::shared_ptr<const std::string> data, IoDone done)
      : reactor_(r),
        dir_fd_(dir_fd),
        tmp_(std::move(tmp)),
        path_(std::move(path)),
        data_(std::move(data)),
        done_(std::move(done)) {}

  void Start() {
    step_ = kOpen;
    io_uring_prep_openat(reactor_->Sqe(this), AT_FDCWD, tmp_.c_str(),
                         O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  }

  void Complete(int32_t res, uint32_t) override {
    if (res < 0) return Finish(res);
    switch (step_) {
      case kOpen:
        fd_ = res;
        return WriteMore();
      case kWrite:
        written_ += size_t(res);
        return WriteMore();
      case kSync:
        ::close(fd_);
        fd_ = -1;
        step_ = kRename;
        io_uring_prep_renameat(reactor_->Sqe(this), AT_FDCWD, tmp_.c_str(), AT_FDCWD,
                               path_.c_str(), 0);
        return;
      case kRename:
        step_ = kSyncDir;
        io_uring_prep_fsync(reactor_->Sqe(this), dir_fd_, 0);
        return;
      case kSyncDir:
        return Finish(0);
    }
  }

 private:
  enum Step { kOpen, kWrite, kSync, kRename, kSyncDir };

  void WriteMore() {
    if (written_ < data_->size()) {
      step_ = kWrite;
      const size_t chunk = std::min<size_t>(data_->size() - written_, 1u << 30);
      io_uring_prep_write(reactor_->Sqe(this), fd_, data_->data() + written_, unsigned(chunk),
                          written_);
      return;
    }
    step_ = kSync;
    io_uring_prep_fsync(reactor_->Sqe(this), fd_, 0);
  }
  void Finish(int32_t res) {
    if (fd_ >= 0) ::close(fd_);
    IoDone done = std::move(done_);
    delete this;
    done(res);
  }

  core::Reactor* reactor_;
  int dir_fd_;
  std::string tmp_;
  std::string path_;
  std::shared_ptr<const std::string> data_;
  IoDone done_;
  Step step_ = kOpen;
  int fd_ = -1;
  size_t written_ = 0;
};

}  // namespace

void UringStorage::WriteAtomic(const std::string& name, std::shared_ptr<const std::string> data,
                               IoDone done) {
  (new AtomicWriter(reactor_, dir_fd_, Path(name) + ".tmp", Path(name), std::move(data),
                    std::move(done)))
      ->Start();
}

void UringStorage::RenameAsync(const std::string& from, const std::string& to, IoDone done) {
  auto paths = std::make_shared<std::pair<std::string, std::string>>(Path(from), Path(to));
  io_uring_prep_renameat(Sqe(reactor_,
                             [this, paths, done](int32_t res) {
                               if (res < 0) return done(res);
                               io_uring_prep_fsync(
                                   Sqe(reactor_, [done](int32_t r) { done(r); }), dir_fd_, 0);
                             }),
                         AT_FDCWD, paths->first.c_str(), AT_FDCWD, paths->second.c_str(),
                         RENAME_NOREPLACE);
}

void UringStorage::Reuse(const std::string& from, const std::string& to,
                         std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) {
  auto path = std::make_shared<std::string>(Path(to));
  auto fail = [done, from = Path(from)](const char* what, int32_t res) {
    done(absl::Status(absl::ErrnoToStatusCode(-res),
                      std::string(what) + " " + from + ": " + std::strerror(-res)));
  };
  RenameAsync(from, to, [this, path, done, fail](int32_t res) {
    if (res < 0) return fail("cannot reuse", res);
    io_uring_prep_openat(Sqe(reactor_,
                             [this, path, done, fail](int32_t fd) {
                               if (fd < 0) return fail("cannot open the reused", fd);
                               done(MakeSegmentFile(reactor_, *path, fd, !options_.unsafe_no_sync,
                                                    options_.direct_io));
                             }),
                         AT_FDCWD, path->c_str(), O_RDWR | O_CLOEXEC, 0);
  });
}

void UringStorage::OpenRead(
    const std::string& name,
    std::function<void(absl::StatusOr<std::unique_ptr<ReadableFile>>)> done) {
  auto path = std::make_shared<std::string>(Path(name));
  io_uring_prep_openat(Sqe(reactor_,
                           [this, path, done](int32_t fd) {
                             if (fd < 0) {
                               return done(absl::Status(absl::ErrnoToStatusCode(-fd),
                                                        "cannot open " + *path + ": " +
                                                            std::strerror(-fd)));
                             }
                             done(std::make_unique<UringReadableFile>(reactor_, fd, *path));
                           }),
                       AT_FDCWD, path->c_str(), O_RDONLY | O_CLOEXEC, 0);
}

void UringStorage::RemoveAsync(const std::string& name, IoDone done) {
  auto path = std::make_shared<std::string>(Path(name));
  io_uring_prep_unlinkat(Sqe(reactor_,
                             [this, path, done](int32_t res) {
                               if (res < 0 && res != -ENOENT) return done(res);
                               io_uring_prep_fsync(Sqe(reactor_, [done](int32_t r) { done(r); }),
                                                   dir_fd_, 0);
                             }),
                         AT_FDCWD, path->c_str(), 0);
}

}  // namespace werk::wal
