#pragma once
// Storage on a directory of the local file system. The asynchronous calls go
// through the shard's io_uring (openat, fallocate, write, read, fsync,
// renameat, unlinkat), so the shard thread never blocks on the disk; the blocking
// calls are for startup and tools.

#include <memory>
#include <string>

#include "core/reactor.h"
#include "wal/storage.h"

namespace werk::wal {

class UringStorage final : public Storage {
 public:
  struct Options {
    // Development only: skip fdatasync (data survives a process crash but not
    // a power loss). Never in production.
    bool unsafe_no_sync = false;
    // Write segments with O_DIRECT + RWF_DSYNC when the file system allows
    // it (no page-cache copy, no io_uring helper thread per sync).
    bool direct_io = true;
  };

  // Opens (creating if needed) `dir`. `reactor` may be null for tools that
  // use only the blocking calls.
  static absl::StatusOr<std::unique_ptr<UringStorage>> Open(const std::string& dir,
                                                            core::Reactor* reactor,
                                                            Options options);
  ~UringStorage() override;

  std::vector<std::string> List() override;
  absl::StatusOr<std::string> ReadAll(const std::string& name) override;
  absl::Status Remove(const std::string& name) override;
  absl::Status Overwrite(const std::string& name, uint64_t offset, std::string_view data) override;
  absl::StatusOr<std::unique_ptr<SegmentFile>> Open(const std::string& name) override;
  absl::Status Sync(const std::string& name) override;

  void CreatePreallocated(
      const std::string& name, uint64_t bytes,
      std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override;
  void RenameAsync(const std::string& from, const std::string& to, IoDone done) override;
  void Reuse(const std::string& from, const std::string& to,
             std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override;
  void WriteAtomic(const std::string& name, std::shared_ptr<const std::string> data,
                   IoDone done) override;
  void RemoveAsync(const std::string& name, IoDone done) override;
  void OpenRead(const std::string& name,
                std::function<void(absl::StatusOr<std::unique_ptr<ReadableFile>>)> done) override;

  const std::string& dir() const { return dir_; }

 private:
  UringStorage(std::string dir, int dir_fd, core::Reactor* reactor, Options o)
      : dir_(std::move(dir)), dir_fd_(dir_fd), reactor_(reactor), options_(o) {}
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  int dir_fd_;
  core::Reactor* reactor_;
  Options options_;
};

}  // namespace werk::wal
