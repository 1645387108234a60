#pragma once
// The log's view of the file system (style P3, P18): a seam between the log
// and the disk so tests can substitute storage that fails, tears writes and
// loses everything not synced.
//
// Startup and tools use the blocking calls; the running shard uses only the
// asynchronous ones, whose completions arrive on the shard's own loop.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace werk::wal {

// res: bytes written or 0 on success, -errno on failure.
using IoDone = std::function<void(int32_t res)>;

class SegmentFile {
 public:
  virtual ~SegmentFile() = default;
  // Writes `data` at `offset` and makes it durable (write, then fdatasync,
  // ordered). Calls done(data.size()) once both finished, or done(-errno).
  // `data` must stay valid until then.
  virtual void WriteDurable(uint64_t offset, std::string_view data, IoDone done) = 0;
  // How many WriteDurable calls may be in flight at once (on disjoint
  // ranges, appended in order).
  virtual int concurrent_writes_max() const { return 1; }
};

// The bytes read, or why not (the message names the file and the offset).
using ReadDone = std::function<void(absl::StatusOr<std::string> data)>;

// A file opened for reading by the running shard (a standby catching up
// reads the log's segments back: wal/log_file_source.h). It keeps reading
// the file it opened if the name is later renamed or removed.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `len` bytes at `offset`: fewer only at the end of the file
  // (none at or past it). The completion owns the buffer, so a reader that
  // goes away with a read in flight leaves nothing to write into; the file
  // may be destroyed with reads in flight, which still complete.
  virtual void ReadAt(uint64_t offset, size_t len, ReadDone done) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // --- Blocking: recovery and tools ---------------------------------------
  virtual std::vector<std::string> List() = 0;
  virtual absl::StatusOr<std::string> ReadAll(const std::string& name) = 0;
  // Removes a file and syncs the directory.
  virtual absl::Status Remove(const std::string& name) = 0;
  // pwrite + fdatasync (used to zero a torn tail).
  virtual absl::Status Overwrite(const std::string& name, uint64_t offset,
                                 std::string_view data) = 0;
  virtual absl::StatusOr<std::unique_ptr<SegmentFile>> Open(const std::string& name) = 0;
  // fdatasync: what recovery read is durable before the writer's markers
  // state it (a crash may leave written but unsynced data readable).
  virtual absl::Status Sync(const std::string& name) = 0;

  // --- Asynchronous: the running shard --------------------------------------
  // Creates `name` (which must not exist) filled with `bytes` zeros,
  // preallocated, then syncs the file and the directory.
  virtual void CreatePreallocated(
      const std::string& name, uint64_t bytes,
      std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) = 0;
  // Renames `from` to `to` (which must not exist) and syncs the directory.
  virtual void RenameAsync(const std::string& from, const std::string& to, IoDone done) = 0;
  // Renames `from` to `to` as above, then opens `to` as a segment.
  virtual void Reuse(const std::string& from, const std::string& to,
                     std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) = 0;
  // Writes a whole file atomically: `name.tmp`, synced, renamed over `name`,
  // directory synced.
  virtual void WriteAtomic(const std::string& name, std::shared_ptr<const std::string> data,
                           IoDone done) = 0;
  // Removes a file and syncs the directory.
  virtual void RemoveAsync(const std::string& name, IoDone done) = 0;
  // Opens `name` for reading.
  virtual void OpenRead(
      const std::string& name,
      std::function<void(absl::StatusOr<std::unique_ptr<ReadableFile>>)> done) = 0;
};

}  // namespace werk::wal
