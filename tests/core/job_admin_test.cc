// The operator's operations over a shard group (core/job_service.h
// "operator's reads and actions"): pages of sets and queues with their
// cursors, FindJob, ListWorkers and SetWorkerState, on 1 and 3 shards.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/job_service.h"
#include "core/time_format.h"
#include "tests/core/service_group.h"

namespace werk::core {
namespace {

std::string JidOf(const std::string& json) {
  const size_t at = json.find("\"jid\":\"");
  return at == std::string::npos ? "?" : json.substr(at + 7, json.find('"', at + 7) - at - 7);
}

class JobAdminTest : public ServiceGroupTest {
 protected:
  // Schedules a job owned by `owner` to run at `at`.
  std::string ScheduleOn(int owner, UnixNanos at, std::string jobtype = "T") {
    std::string jid = JidOn(owner, "sched");
    JobSpec job = Job(jid, "q");
    job.jobtype = std::move(jobtype);
    job.at = FormatRfc3339Nano(at);
    job.at_ns = at;
    Outcome<OpStatus> status(At(0).Push(std::move(job)));
    Turn();
    EXPECT_TRUE(status.has_value() && status->ok());
    return jid;
  }
  OpResult<JobPage> List(ListRequest req, int via = 0) {
    Outcome<OpResult<JobPage>> page(At(via).ListJobs(std::move(req)));
    Turn();
    EXPECT_TRUE(page.has_value());
    return page.has_value() ? *page : OpResult<JobPage>(InvalidRequest("no answer"));
  }
  // Every page of `req`, the jids in order; fails on a repeated key.
  std::vector<std::string> AllPages(ListRequest req, int* pages = nullptr) {
    std::vector<std::string> jids;
    std::optional<ListKey> last;
    for (int n = 0; n < 10000; ++n) {
      OpResult<JobPage> page = List(req, n % GetParam());
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const ListedJob& row : page->rows) {
        if (last) {
          EXPECT_LT(*last, row.key);
        }
        last = row.key;
        jids.push_back(JidOf(row.json));
      }
      if (pages) *pages = n + 1;
      if (!page->next) break;
      req.after = page->next;
    }
    return jids;
  }
  UnixNanos Later(int64_t s) { return clock_.WallNow() + s * kNanosPerSecond; }
};

TEST_P(JobAdminTest, PagesOfASetCoverEveryJobOnceInTimeOrderWithTies) {
  std::vector<std::string> expected;
  // Ten distinct times, four jobs each on assorted shards: ties within and
  // across shards.
  for (int t = 0; t < 10; ++t)
    for (int i = 0; i < 4; ++i) expected.push_back(ScheduleOn((t + i) % GetParam(), Later(100 + t)));
  ListRequest req;
  req.target = ListTarget::kScheduled;
  req.limit = 3;
  int pages = 0;
  std::vector<std::string> got = AllPages(req, &pages);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()),
            std::set<std::string>(expected.begin(), expected.end()));
  EXPECT_GE(pages, 14);
  // Time order: the i-th job listed was scheduled at the (i/4)-th time.
  for (size_t i = 0; i < got.size(); ++i) {
    const size_t at = std::find(expected.begin(), expected.end(), got[i]) - expected.begin();
    EXPECT_EQ(at / 4, i / 4) << got[i];
  }
  OpResult<JobPage> first = List(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->total, expected.size());
  EXPECT_EQ(first->rows.size(), 3u);
}

TEST_P(JobAdminTest, JobsThatStayAreListedOnceWhileOthersComeAndGo) {
  std::vector<std::string> stay;
  for (int i = 0; i < 30; ++i) stay.push_back(ScheduleOn(i % GetParam(), Later(100 + i % 5)));
  ListRequest req;
  req.target = ListTarget::kScheduled;
  req.limit = 4;
  std::multiset<std::string> seen;
  for (int n = 0; n < 100; ++n) {
    OpResult<JobPage> page = List(req);
    ASSERT_TRUE(page.ok());
    for (const ListedJob& row : page->rows) seen.insert(JidOf(row.json));
    // Between pages: a job before the cursor and one after it arrive.
    ScheduleOn(n % GetParam(), Later(99));
    ScheduleOn(n % GetParam(), Later(106));
    if (!page->next) break;
    req.after = page->next;
  }
  for (const std::string& jid : stay) EXPECT_EQ(seen.count(jid), 1u) << jid;
}

TEST_P(JobAdminTest, AFilteredPageScansABoundedNumberAndContinues) {
  std::vector<std::string> wanted;
  for (int i = 0; i < 60; ++i) {
    const bool match = i % 10 == 3;
    std::string jid = ScheduleOn(i % GetParam(), Later(100 + i), match ? "Wanted" : "Other");
    if (match) wanted.push_back(jid);
  }
  ListRequest req;
  req.target = ListTarget::kScheduled;
  req.limit = 2;
  req.filter = MutateFilter{{}, "", "Wanted"};
  req.scan_max = 4;
  int pages = 0;
  std::vector<std::string> got = AllPages(req, &pages);
  EXPECT_EQ(got, wanted);
  EXPECT_GT(pages, 5);  // the bound cut pages short
  // A glob over the JSON.
  req.filter = MutateFilter{{}, "*Wanted*", ""};
  req.scan_max = kListScanMax;  // the default bound
  EXPECT_EQ(AllPages(req), wanted);
  // By jid.
  req.filter = MutateFilter{{wanted[1], wanted[3]}, "", ""};
  EXPECT_EQ(AllPages(req), (std::vector<std::string>{wanted[1], wanted[3]}));
}

TEST_P(JobAdminTest, AQueueIsListedInEnqueueOrderFifoPerShard) {
  std::vector<std::string> pushed;
  for (int i = 0; i < 25; ++i) {
    // Every shard's clock moves on before each push: enqueued_at grows.
    clock_.Advance(kNanosPerMilli);
    Turn(1);
    pushed.push_back(PushOn(i % GetParam(), "work"));
  }
  PushOn(0, "other");
  ListRequest req;
  req.target = ListTarget::kQueue;
  req.queue = "work";
  req.limit = 4;
  EXPECT_EQ(AllPages(req), pushed);  // each pushed after the last: FIFO overall
  OpResult<JobPage> first = List(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->total, 25u);
  req.queue = "nosuch";
  OpResult<JobPage> none = List(req);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rows.empty());
  EXPECT_FALSE(none->next);
}

TEST_P(JobAdminTest, BadRequestsAreRefused) {
  EXPECT_FALSE(ParseCursor("").ok());
  EXPECT_FALSE(ParseCursor("1.2").ok());
  EXPECT_FALSE(ParseCursor("1.2.3.4").ok());
  EXPECT_FALSE(ParseCursor("-1.2.3").ok());
  EXPECT_FALSE(ParseCursor("a.b.c").ok());
  EXPECT_FALSE(ParseCursor("1.2.3x").ok());
  ASSERT_TRUE(ParseCursor("17.2.3").ok());
  EXPECT_EQ(*ParseCursor(FormatCursor(ListKey{1234567890123, 7, 99})), (ListKey{1234567890123, 7, 99}));
  ListRequest req;
  req.limit = kListLimitMax + 1;
  EXPECT_FALSE(List(req).ok());
  req.limit = 5;
  req.target = ListTarget::kQueue;
  EXPECT_FALSE(List(req).ok());
  // A cursor from nowhere (a shard that does not exist) is still a place.
  req.target = ListTarget::kScheduled;
  req.after = ListKey{0, 999, 0};
  ScheduleOn(0, Later(100));
  OpResult<JobPage> page = List(req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rows.size(), 1u);
}

TEST_P(JobAdminTest, FindJobSaysWhereEachJobIs) {
  const std::string queued = PushOn(GetParam() - 1, "q");
  const std::string scheduled = ScheduleOn(0, Later(100));
  const std::string working = PushOn(0, "w");
  Waiter w;
  At(0).fetcher().Start(&w, {"w"}, "wid-12345678", Deadline());
  Turn();
  ASSERT_EQ(w.Jid(), working);
  auto find = [&](const std::string& jid) {
    Outcome<OpResult<FoundJob>> f(At(GetParam() - 1).FindJob(jid));
    Turn();
    EXPECT_TRUE(f.has_value());
    return *f;
  };
  OpResult<FoundJob> f = find(queued);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where, "queue");
  EXPECT_EQ(f->queue, "q");
  EXPECT_NE(f->json.find(queued), std::string::npos);
  f = find(scheduled);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where, "scheduled");
  EXPECT_EQ(f->set_time, Later(100));
  f = find(working);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where, "working");
  EXPECT_EQ(f->wid, "wid-12345678");
  FailRequest fail;
  fail.jid = working;
  fail.errtype = "Boom";
  fail.message = "it broke";
  fail.backtrace = {"a.rb:1"};
  Outcome<OpStatus> failed(At(0).Fail(std::move(fail)));
  Turn();
  f = find(working);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where, "retries");
  ASSERT_TRUE(f->failure);
  EXPECT_EQ(f->failure->errtype, "Boom");
  EXPECT_EQ(f->failure->message, "it broke");
  EXPECT_EQ(f->failure->retry_count, 0);
  EXPECT_EQ(find("nosuch-jid-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(JobAdminTest, WorkersAreListedWithTheirJobsAndQuietedFromAnyShard) {
  const std::string wid1 = JidOn(GetParam() - 1, "wid");
  const std::string wid2 = JidOn(0, "wid");
  for (int s = 0; s < GetParam(); ++s) {
    Outcome<WorkerState> a(At(s).AttachWorker(WorkerHello{wid1, "host1", 11, {"l1"}, 2}));
    Turn();
  }
  Outcome<WorkerState> b(At(0).AttachWorker(WorkerHello{wid2, "host2", 22, {}, 2}));
  Turn();
  std::vector<std::string> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(PushOn(i % GetParam(), "q"));
  for (int i = 0; i < 3; ++i) {
    Waiter w;
    At(i % GetParam()).fetcher().Start(&w, {"q"}, wid1, Deadline());
    Turn();
    ASSERT_NE(w.Jid(), "");
  }
  auto list = [&] {
    Outcome<OpResult<std::vector<WorkerInfo>>> l(At(0).ListWorkers());
    Turn();
    EXPECT_TRUE(l.has_value() && l->ok());
    return **l;
  };
  std::vector<WorkerInfo> workers = list();
  ASSERT_EQ(workers.size(), 2u);
  const WorkerInfo& one = workers[0].wid == wid1 ? workers[0] : workers[1];
  EXPECT_EQ(one.hostname, "host1");
  EXPECT_EQ(one.pid, 11);
  EXPECT_EQ(one.connections, size_t(GetParam()));
  EXPECT_EQ(one.reserved_count, 3u);
  ASSERT_EQ(one.reserved.size(), 3u);
  EXPECT_EQ(one.reserved[0].queue, "q");
  EXPECT_EQ(one.state, WorkerState::kRunning);

  Outcome<OpResult<size_t>> quiet(At(GetParam() - 1).SetWorkerState(wid2, WorkerState::kQuiet));
  Turn();
  ASSERT_TRUE(quiet.has_value() && quiet->ok());
  EXPECT_EQ(**quiet, 1u);
  // The next BEAT tells the process.
  Outcome<OpResult<WorkerState>> beat(At(0).Beat(WorkerBeat{wid2, "", 0}));
  Turn();
  ASSERT_TRUE(beat.has_value() && beat->ok());
  EXPECT_EQ(**beat, WorkerState::kQuiet);
  // "all": both to terminate; never back.
  Outcome<OpResult<size_t>> all(At(0).SetWorkerState("all", WorkerState::kTerminate));
  Turn();
  ASSERT_TRUE(all.has_value() && all->ok());
  EXPECT_EQ(**all, 2u);
  for (const WorkerInfo& w : list()) EXPECT_EQ(w.state, WorkerState::kTerminate);
  Outcome<OpResult<size_t>> back(At(0).SetWorkerState(wid1, WorkerState::kQuiet));
  Turn();
  ASSERT_TRUE(back.has_value() && back->ok());
  EXPECT_EQ(**back, 0u);
  Outcome<OpResult<size_t>> unknown(At(0).SetWorkerState("nosuch-wid", WorkerState::kQuiet));
  Turn();
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status().code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Shards, JobAdminTest, ::testing::Values(1, 3),
                         [](const auto& info) { return std::to_string(info.param) + "shards"; });

}  // namespace
}  // namespace werk::core
