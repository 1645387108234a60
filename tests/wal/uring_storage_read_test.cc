// Reading files back on the shard's io_uring (UringStorage::OpenRead,
// ReadableFile::ReadAt): a file's bytes at any offset, fewer at its end, a
// clear error for a file that is not there; and a real log on disk read
// back by wal::LogFileSource byte for byte as its cursor gave it.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "core/clock.h"
#include "tests/support/temp_dir.h"
#include "wal/log_file_source.h"
#include "wal/recovery.h"
#include "wal/uring_storage.h"

namespace werk::testing {
namespace {

// Polls the ring until `done` is true (bounded: the test fails, it does not
// hang, if a completion never comes).
template <typename Done>
bool PollUntil(core::Reactor& reactor, Done done) {
  for (int i = 0; i < 10000 && !done(); ++i) reactor.Poll(10'000'000);
  return done();
}

TEST(UringStorageRead, ReadsAFileAtAnyOffsetOnTheRing) {
  TempDir dir;
  core::Reactor reactor;
  auto storage = wal::UringStorage::Open(dir.path(), &reactor, {});
  ASSERT_TRUE(storage.ok()) << storage.status();
  std::string content;
  for (int i = 0; i < 20000; ++i) content += char('a' + i % 26);
  std::ofstream(dir.path() + "/f") << content;

  std::unique_ptr<wal::ReadableFile> file;
  bool opened = false;
  (*storage)->OpenRead("f", [&](absl::StatusOr<std::unique_ptr<wal::ReadableFile>> f) {
    ASSERT_TRUE(f.ok()) << f.status();
    file = std::move(*f);
    opened = true;
  });
  ASSERT_TRUE(PollUntil(reactor, [&] { return opened; }));
  ASSERT_NE(file, nullptr);

  for (auto [offset, len, want] : {std::tuple<uint64_t, size_t, size_t>{0, 100, 100},
                                   {12345, 4096, 4096},
                                   {19990, 100, 10},
                                   {20000, 100, 0},
                                   {50000, 10, 0}}) {
    absl::StatusOr<std::string> got = absl::UnknownError("not done");
    bool done = false;
    file->ReadAt(offset, len, [&](absl::StatusOr<std::string> data) {
      got = std::move(data);
      done = true;
    });
    ASSERT_TRUE(PollUntil(reactor, [&] { return done; }));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, content.substr(std::min<size_t>(offset, content.size()), want));
  }

  // A read in flight when the file goes still completes, into its own buffer.
  bool done = false;
  file->ReadAt(0, 10, [&](absl::StatusOr<std::string> data) {
    EXPECT_TRUE(data.ok());
    done = true;
  });
  file.reset();
  ASSERT_TRUE(PollUntil(reactor, [&] { return done; }));

  absl::Status missing;
  bool failed = false;
  (*storage)->OpenRead("nope", [&](absl::StatusOr<std::unique_ptr<wal::ReadableFile>> f) {
    missing = f.status();
    failed = true;
  });
  ASSERT_TRUE(PollUntil(reactor, [&] { return failed; }));
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_NE(missing.message().find("nope"), std::string_view::npos) << missing;
}

TEST(UringStorageRead, ALogOnDiskIsReadBackAsItsCursorGaveIt) {
  TempDir dir;
  core::Reactor reactor;
  core::ManualClock clock;
  auto storage = wal::UringStorage::Open(dir.path(), &reactor, {});
  ASSERT_TRUE(storage.ok()) << storage.status();
  auto recovered = wal::Recover(**storage, {}, {});
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  wal::Wal::Options wo;
  wo.segment_bytes = 64 << 10;
  wo.batch_bytes_max = 8 << 10;
  wal::Wal wal(storage->get(), clock, wo, std::move(recovered->position));
  auto cursor = wal.Follow(core::Lsn(1));
  ASSERT_TRUE(cursor.ok());

  std::map<uint64_t, std::string> expected;
  const uint64_t records = 3000;
  for (uint64_t i = 1; i <= records; ++i) {
    wal.Append("record " + std::to_string(i) + std::string(i % 300, 'x'));
    if (i % 50 == 0 || i == records) {
      wal.Commit();
      ASSERT_TRUE(PollUntil(reactor, [&] { return wal.durable_lsn() == wal.appended_lsn(); }));
      ASSERT_TRUE((*cursor)
                      ->Read(SIZE_MAX,
                             [&](const wal::FollowedRecord& r) {
                               expected[r.lsn.value()] = std::string(r.frame);
                               return true;
                             })
                      .ok());
    }
  }
  ASSERT_EQ(expected.size(), records);
  ASSERT_GT(wal.segment_count(), 4u);

  wal::LogFileSource::Options o;
  o.read_bytes = 10000;  // not a multiple of anything in the log
  auto source = wal::LogFileSource::Open(&wal, core::Lsn(100), core::Lsn(records), o);
  ASSERT_TRUE(source.ok()) << source.status();
  std::map<uint64_t, std::string> got;
  ASSERT_TRUE(PollUntil(reactor, [&] {
    auto n = (*source)->Read(SIZE_MAX, [&](const wal::FollowedRecord& r) {
      got[r.lsn.value()] = std::string(r.frame);
      return true;
    });
    EXPECT_TRUE(n.ok()) << n.status();
    return !n.ok() || (*source)->done();
  }));
  const std::map<uint64_t, std::string> want(expected.lower_bound(100), expected.end());
  EXPECT_EQ(got, want);
  EXPECT_GT((*source)->reads(), 10u);
  source->reset();
  cursor->reset();
  ASSERT_TRUE(PollUntil(reactor, [&] { return wal.io_idle(); }));
}

}  // namespace
}  // namespace werk::testing
