#include "core/job_json.h"

#include <gtest/gtest.h>

#include "core/json_writer.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

TEST(JsonWriter, EscapesLikeGo) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\n<>&\x01\t");
  EXPECT_EQ(out, R"("a\"b\\c\n\u003c\u003e\u0026\u0001\t")");
  out.clear();
  AppendJsonString(out, "caf\xc3\xa9 \xff \xe2\x80\xa8");
  EXPECT_EQ(out, "\"caf\xc3\xa9 \\ufffd \\u2028\"");
}

TEST(JsonWriter, Doubles) {
  std::string out;
  AppendJsonDouble(out, 0);
  out.push_back(' ');
  AppendJsonDouble(out, 1.5);
  out.push_back(' ');
  AppendJsonDouble(out, 12.25);
  EXPECT_EQ(out, "0 1.5 12.25");
}

TEST(JobJson, MatchesFaktoryLayout) {
  JobSpec s;
  s.jid = "jid-anchor-0001";
  s.jobtype = "SomeJob";
  s.queue = "default";
  s.args_json = R"([1,"two",{"three":3}])";
  s.created_at = "2026-11-22T15:45:10.121577708Z";
  auto job = Job::Create(s, 1);
  job->enqueued_at = *ParseRfc3339("2026-11-22T15:45:10.121919897Z");
  // The FETCH reply observed from Faktory 1.8.0 (reference §3.2).
  EXPECT_EQ(JobJson(*job),
            R"({"jid":"jid-anchor-0001","queue":"default","jobtype":"SomeJob","args":[1,"two",{"three":3}],"created_at":"2026-11-22T15:45:10.121577708Z","enqueued_at":"2026-11-22T15:45:10.121919897Z","retry":25})");
}

TEST(JobJson, OptionalFieldsAndFailure) {
  JobSpec s;
  s.jid = "abcdefgh";
  s.jobtype = "T";
  s.queue = "q";
  s.args_json = "[]";
  s.at = "2030-01-01T00:00:00Z";
  s.reserve_for = 90;
  s.retry = 3;
  s.backtrace = 4;
  s.custom_json = R"({"a":1})";
  Failure f;
  f.retry_count = 1;
  f.remaining = 2;
  f.failed_at = "2026-01-01T00:00:00Z";
  f.next_at = "2026-01-01T00:01:00Z";
  f.message = "boom";
  f.errtype = "RuntimeError";
  f.backtrace = {"x.rb:1"};
  s.failure = f;
  auto job = Job::Create(s, 1);
  EXPECT_EQ(JobJson(*job),
            R"({"jid":"abcdefgh","queue":"q","jobtype":"T","args":[],"at":"2030-01-01T00:00:00Z","reserve_for":90,"retry":3,"backtrace":4,"failure":{"retry_count":1,"remaining":2,"failed_at":"2026-01-01T00:00:00Z","next_at":"2026-01-01T00:01:00Z","message":"boom","errtype":"RuntimeError","backtrace":["x.rb:1"]},"custom":{"a":1}})");
  EXPECT_EQ(job->ToSpec(), s);
}

}  // namespace
}  // namespace werk::core
