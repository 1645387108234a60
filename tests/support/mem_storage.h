#pragma once
// In-memory wal::Storage with fault injection (style P18, modelled on
// LevelDB's fault_injection_test): asynchronous operations complete only when
// the test runs them, I/O can fail on demand or at random (seeded), and
// Crash() simulates a power loss — everything not synced is dropped, the
// write in flight may land whole, partly, torn or not at all, and files whose
// directory entry was never synced may vanish.

#include <algorithm>
#include <cerrno>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "wal/storage.h"

namespace werk::testing {

class MemStorage final : public wal::Storage {
 public:
  struct Faults {
    double write_error = 0;  // probability a WriteDurable fails with -EIO
    double sync_error = 0;   // probability its sync fails (the data may still land)
    double create_error = 0;
    double read_error = 0;   // probability a ReadAt fails with -EIO
  };

  explicit MemStorage(uint64_t seed = 1) : rng_(seed) {}

  void set_faults(Faults f) { faults_ = f; }
  // Runs queued completions (and those they queue) until none is left, or at
  // most `max` of them.
  // With `shuffle`, operations complete in random order, as concurrent
  // requests to a real disk may.
  size_t RunPending(size_t max = SIZE_MAX) {
    size_t n = 0;
    while (!pending_.empty() && n < max) {
      size_t i = 0;
      if (shuffle_ && pending_.size() > 1) i = size_t(rng_() % pending_.size());
      auto op = std::move(pending_[i]);
      pending_.erase(pending_.begin() + long(i));
      op.complete();
      ++n;
    }
    return n;
  }
  void set_shuffle(bool on) { shuffle_ = on; }
  size_t pending() const { return pending_.size(); }

  // Power loss. Outstanding operations never complete.
  void Crash() {
    for (auto& op : pending_)
      if (op.crash) op.crash();
    pending_.clear();
    for (auto it = files_.begin(); it != files_.end();) {
      if (!it->second->entry_durable && Coin(0.5)) {
        it = files_.erase(it);
      } else {
        // Whatever is visible after the reboot is on disk, entry included.
        it->second->live = it->second->durable;
        it->second->entry_durable = true;
        ++it;
      }
    }
    ++generation_;  // SegmentFile handles from before the crash go dead
  }

  // Direct access for tests that damage files on purpose.
  std::string* Durable(const std::string& name) {
    auto it = files_.find(name);
    return it == files_.end() ? nullptr : &it->second->durable;
  }
  void Put(const std::string& name, std::string data) {
    auto f = std::make_shared<File>();
    f->durable = f->live = std::move(data);
    f->entry_durable = true;
    files_[name] = f;
  }
  bool Exists(const std::string& name) const { return files_.count(name) > 0; }

  // --- wal::Storage -----------------------------------------------------------
  std::vector<std::string> List() override {
    std::vector<std::string> out;
    for (auto& [name, f] : files_) out.push_back(name);
    return out;
  }
  absl::StatusOr<std::string> ReadAll(const std::string& name) override {
    auto it = files_.find(name);
    if (it == files_.end()) return absl::NotFoundError(name);
    return it->second->live;
  }
  absl::Status Remove(const std::string& name) override {
    files_.erase(name);
    return absl::OkStatus();
  }
  absl::Status Overwrite(const std::string& name, uint64_t offset,
                         std::string_view data) override {
    auto it = files_.find(name);
    if (it == files_.end()) return absl::NotFoundError(name);
    Write(it->second->live, offset, data);
    Write(it->second->durable, offset, data);
    return absl::OkStatus();
  }
  // After a Crash() what is visible is what is durable: nothing to do.
  absl::Status Sync(const std::string& name) override {
    return files_.count(name) ? absl::OkStatus() : absl::NotFoundError(name);
  }
  absl::StatusOr<std::unique_ptr<wal::SegmentFile>> Open(const std::string& name) override {
    auto it = files_.find(name);
    if (it == files_.end()) return absl::NotFoundError(name);
    return std::unique_ptr<wal::SegmentFile>(new MemFile(this, it->second));
  }
  void CreatePreallocated(
      const std::string& name, uint64_t bytes,
      std::function<void(absl::StatusOr<std::unique_ptr<wal::SegmentFile>>)> done) override {
    if (Coin(faults_.create_error)) {
      Enqueue([done] { done(absl::InternalError("injected create failure")); }, nullptr);
      return;
    }
    auto f = std::make_shared<File>();
    f->live.assign(bytes, '\0');
    files_[name] = f;  // visible now, durable (with its entry) on completion
    Enqueue(
        [this, f, done] {
          f->durable = f->live;
          f->entry_durable = true;
          done(std::unique_ptr<wal::SegmentFile>(new MemFile(this, f)));
        },
        nullptr);
  }
  void WriteAtomic(const std::string& name, std::shared_ptr<const std::string> data,
                   wal::IoDone done) override {
    const std::string tmp = name + ".tmp";
    auto f = std::make_shared<File>();
    f->live = *data;
    files_[tmp] = f;
    Enqueue(
        [this, tmp, name, data, done] {
          files_.erase(tmp);
          Put(name, *data);
          done(0);
        },
        [this, tmp, data] {
          // A crash mid-way may leave a partial temporary file behind.
          auto it = files_.find(tmp);
          if (it == files_.end()) return;
          it->second->durable = data->substr(0, size_t(rng_() % (data->size() + 1)));
          it->second->entry_durable = Coin(0.5);
        });
  }
  void RenameAsync(const std::string& from, const std::string& to, wal::IoDone done) override {
    auto it = files_.find(from);
    if (it == files_.end() || files_.count(to)) {
      Enqueue([done] { done(-ENOENT); }, nullptr);
      return;
    }
    // Visible at once; a power loss before the directory sync may undo it.
    auto f = it->second;
    files_.erase(it);
    files_[to] = f;
    Enqueue([done] { done(0); },
            [this, from, to, f] {
              if (Coin(0.5) && files_.count(to) && files_[to] == f) {
                files_.erase(to);
                files_[from] = f;
              }
            });
  }
  void Reuse(const std::string& from, const std::string& to,
             std::function<void(absl::StatusOr<std::unique_ptr<wal::SegmentFile>>)> done) override {
    RenameAsync(from, to, [this, to, done](int32_t res) {
      if (res < 0) return done(absl::NotFoundError(to));
      done(std::unique_ptr<wal::SegmentFile>(new MemFile(this, files_[to])));
    });
  }
  void RemoveAsync(const std::string& name, wal::IoDone done) override {
    Enqueue(
        [this, name, done] {
          files_.erase(name);
          done(0);
        },
        nullptr);
  }

  // Reads see the file as it is when they complete (as a disk read does
  // when it runs), through the file opened: a rename or removal of its name
  // later changes nothing for the reader, a write into it (a recycled
  // segment) does.
  void OpenRead(const std::string& name,
                std::function<void(absl::StatusOr<std::unique_ptr<wal::ReadableFile>>)> done)
      override {
    auto it = files_.find(name);
    if (it == files_.end()) {
      Enqueue([done, name] { done(absl::NotFoundError("cannot open " + name)); }, nullptr);
      return;
    }
    auto f = it->second;
    Enqueue(
        [this, f, name, done] {
          done(std::unique_ptr<wal::ReadableFile>(new MemReadFile(this, f, name)));
        },
        nullptr);
  }

  uint64_t writes() const { return writes_; }
  uint64_t reads() const { return reads_; }

 private:
  struct File {
    std::string live;
    std::string durable;
    bool entry_durable = false;
  };
  struct Op {
    std::function<void()> complete;
    std::function<void()> crash;  // what a power loss does to it, if anything
  };

  class MemFile final : public wal::SegmentFile {
   public:
    MemFile(MemStorage* s, std::shared_ptr<File> f) : s_(s), f_(std::move(f)), gen_(s->generation_) {}
    int concurrent_writes_max() const override { return 2; }
    void WriteDurable(uint64_t offset, std::string_view data, wal::IoDone done) override {
      ++s_->writes_;
      const std::string copy(data);
      if (s_->Coin(s_->faults_.write_error)) {
        s_->Enqueue([done] { done(-EIO); }, nullptr);
        return;
      }
      const bool sync_fails = s_->Coin(s_->faults_.sync_error);
      Write(f_->live, offset, copy);
      auto f = f_;
      MemStorage* s = s_;
      const uint64_t gen = gen_;
      s_->Enqueue(
          [s, f, offset, copy, done, sync_fails, gen] {
            if (gen != s->generation_) return;
            if (sync_fails) {
              // The kernel may or may not have written the pages.
              if (s->Coin(0.5)) Write(f->durable, offset, s->Torn(copy));
              done(-EIO);
              return;
            }
            Write(f->durable, offset, copy);
            done(int32_t(copy.size()));
          },
          [s, f, offset, copy] { Write(f->durable, offset, s->Torn(copy)); });
    }

   private:
    MemStorage* s_;
    std::shared_ptr<File> f_;
    uint64_t gen_;
  };

  class MemReadFile final : public wal::ReadableFile {
   public:
    MemReadFile(MemStorage* s, std::shared_ptr<File> f, std::string name)
        : s_(s), f_(std::move(f)), name_(std::move(name)) {}
    void ReadAt(uint64_t offset, size_t len, wal::ReadDone done) override {
      ++s_->reads_;
      if (s_->Coin(s_->faults_.read_error)) {
        s_->Enqueue(
            [done, name = name_, offset] {
              done(absl::DataLossError("cannot read " + name + " at byte " +
                                       std::to_string(offset) + ": injected I/O error"));
            },
            nullptr);
        return;
      }
      s_->Enqueue(
          [f = f_, offset, len, done] {
            const std::string& data = f->live;
            done(offset >= data.size() ? std::string() : data.substr(size_t(offset), len));
          },
          nullptr);
    }

   private:
    MemStorage* s_;
    std::shared_ptr<File> f_;
    std::string name_;
  };

  static void Write(std::string& file, uint64_t offset, std::string_view data) {
    if (file.size() < offset + data.size()) file.resize(offset + data.size(), '\0');
    std::copy(data.begin(), data.end(), file.begin() + long(offset));
  }

  // What an unsynced write looks like after a power loss: nothing, all of it,
  // a prefix, or some 512-byte sectors in any order.
  std::string Torn(const std::string& data) {
    std::string out(data.size(), '\0');
    switch (rng_() % 4) {
      case 0: return out;
      case 1: return data;
      case 2: {
        const size_t n = size_t(rng_() % (data.size() + 1));
        std::copy(data.begin(), data.begin() + long(n), out.begin());
        return out;
      }
      default:
        for (size_t s = 0; s < data.size(); s += 512)
          if (Coin(0.5))
            std::copy(data.begin() + long(s),
                      data.begin() + long(std::min(data.size(), s + 512)), out.begin() + long(s));
        return out;
    }
  }

  bool Coin(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  void Enqueue(std::function<void()> complete, std::function<void()> crash) {
    pending_.push_back({std::move(complete), std::move(crash)});
  }

  std::mt19937_64 rng_;
  Faults faults_;
  std::map<std::string, std::shared_ptr<File>> files_;
  std::deque<Op> pending_;
  uint64_t generation_ = 0;
  uint64_t writes_ = 0;
  uint64_t reads_ = 0;
  bool shuffle_ = false;
};

}  // namespace werk::testing
