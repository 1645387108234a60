#include "net/job_decoder.h"

#include <gtest/gtest.h>

#include <climits>

#include "core/time_format.h"

namespace werk::net {
namespace {

constexpr core::UnixNanos kNow = 1'795'362'310LL * core::kNanosPerSecond;

class JobDecoderTest : public ::testing::Test {
 protected:
  JobDecoder d;
  JobLimits limits;

  // Decode + validate; returns the error or "" on success.
  std::string Push(std::string_view json, core::JobSpec* out = nullptr) {
    core::JobSpec job;
    if (core::OpStatus s = d.DecodeOne(json, &job); !s.ok()) return std::string(s.message());
    if (core::OpStatus s = core::ValidateJob(job, kNow, limits); !s.ok())
      return std::string(s.message());
    if (out) *out = job;
    return "";
  }
};

TEST_F(JobDecoderTest, MinimalJobGetsDefaults) {
  core::JobSpec job;
  ASSERT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[]})", &job), "");
  EXPECT_EQ(job.queue, "default");
  EXPECT_EQ(job.retry, 25);
  EXPECT_EQ(job.reserve_for, 0);
  EXPECT_EQ(job.args_json, "[]");
  EXPECT_EQ(job.created_at, core::FormatRfc3339Nano(kNow));
  EXPECT_TRUE(job.custom_json.empty());
}

TEST_F(JobDecoderTest, KeepsArgsAndCustomBytesExactly) {
  core::JobSpec job;
  ASSERT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[1.50, 12345678901234567890, "\u00e9", {"b":1,"a":2}] ,"custom":{"z":1,"a":[true,null]}})", &job), "");
  EXPECT_EQ(job.args_json, R"([1.50, 12345678901234567890, "\u00e9", {"b":1,"a":2}])");
  EXPECT_EQ(job.custom_json, R"({"z":1,"a":[true,null]})");
}

TEST_F(JobDecoderTest, AllFields) {
  core::JobSpec job;
  ASSERT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"queue":"crit.q-1_x","retry":3,
    "reserve_for":120,"backtrace":7,"at":"2030-01-01T00:00:00Z","created_at":"whatever",
    "enqueued_at":"ignored","priority":5,"unknown":{"deep":[1,2,{"x":null}]},
    "failure":{"retry_count":2,"remaining":1,"failed_at":"f","message":"m","errtype":"e","backtrace":["a"]}})",
                 &job),
            "");
  EXPECT_EQ(job.queue, "crit.q-1_x");
  EXPECT_EQ(job.retry, 3);
  EXPECT_EQ(job.reserve_for, 120);
  EXPECT_EQ(job.backtrace, 7);
  EXPECT_EQ(job.created_at, "whatever");
  EXPECT_EQ(job.at_ns, *core::ParseRfc3339("2030-01-01T00:00:00Z"));
  ASSERT_TRUE(job.failure.has_value());
  EXPECT_EQ(job.failure->retry_count, 2);
  EXPECT_EQ(job.failure->backtrace, std::vector<std::string>{"a"});
}

TEST_F(JobDecoderTest, CaseInsensitiveKeysAndNulls) {
  core::JobSpec job;
  ASSERT_EQ(Push(R"({"JID":"abcdefgh","JobType":"T","args":[],"retry":null,"queue":null,"custom":{}})", &job), "");
  EXPECT_EQ(job.jid, "abcdefgh");
  EXPECT_EQ(job.retry, 25);
  EXPECT_EQ(job.queue, "default");
  EXPECT_TRUE(job.custom_json.empty());  // an empty map is omitted, as Go does
}

TEST_F(JobDecoderTest, ValidationOrderAndMessages) {
  EXPECT_EQ(Push(R"({"jobtype":"T","args":[]})"), "jobs must have a reasonable jid parameter");
  EXPECT_EQ(Push(R"({"jid":"short","args":[]})"), "jobs must have a reasonable jid parameter");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","args":[]})"), "jobs must have a jobtype parameter");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T"})"), "jobs must have an args parameter");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":null})"),
            "jobs must have an args parameter");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":86401})"),
            "jobs cannot be reserved for more than one day");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":86400})"), "");
  // Below Faktory's minimum is kept as sent (raised to 60 at FETCH), down to
  // what 32 bits hold; beyond that it is refused, not echoed as another number.
  core::JobSpec low;
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":-2147483648})", &low),
            "");
  EXPECT_EQ(low.reserve_for, INT32_MIN);
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":-2147483649})"),
            "reserve_for is out of range: -2147483649");
  EXPECT_EQ(
      Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":-9223372036854775808})"),
      "reserve_for is out of range: -9223372036854775808");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"backtrace":2147483648})"),
            "backtrace is out of range: 2147483648");
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"at":"soon"})")
                .rfind("invalid timestamp for 'at': \"soon\": ", 0),
            0u);
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"queue":"bad name"})"),
            "cannot get \"bad name\" queue: queue names must match \\A[a-zA-Z0-9._-]+\\z");
  EXPECT_EQ(Push("null"), "jobs must have a reasonable jid parameter");
}

TEST_F(JobDecoderTest, TypeMismatchesAreInvalidJson) {
  for (const char* bad : {
           R"({"jid":"abcdefgh","jobtype":"T","args":{}})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"retry":"5"})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"retry":2.5})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"reserve_for":1e3})",
           R"({"jid":12345678,"jobtype":"T","args":[]})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"custom":[]})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"failure":"x"})",
           R"([])",
           R"("job")",
       }) {
    EXPECT_EQ(Push(bad).rfind("invalid JSON: ", 0), 0u) << bad;
  }
}

TEST_F(JobDecoderTest, MalformedJsonAnywhereIsRejected) {
  for (const char* bad : {
           "", "   ", "{not json", R"({"jid":"abcdefgh","jobtype":"T","args":[tru]})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"x":[1,]})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[],"x":nul})",
           R"({"jid":"abcdefgh","jobtype":"T","args":["\x"]})",
           R"({"jid":"abcdefgh","jobtype":"T","args":[]} trailing)",
           R"({"jid":"abcdefgh","jobtype":"T","args":[01]})",
           "{\"jid\":\"abcdefgh\",\"jobtype\":\"T\",\"args\":[\"\xff\"]}",
           R"({"jid":"abcdefgh","jobtype":"T","args":[]}{})",
       }) {
    EXPECT_EQ(Push(bad).rfind("invalid JSON: ", 0), 0u) << "accepted: " << bad;
  }
  EXPECT_EQ(Push(""), "invalid JSON: unexpected end of JSON input");
}

TEST_F(JobDecoderTest, SizeLimits) {
  limits.job_bytes_max = 100;
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[")" + std::string(200, 'x') + R"("]})")
                .rfind("job is too large", 0),
            0u);
  EXPECT_EQ(Push(R"({"jid":")" + std::string(300, 'j') + R"(","jobtype":"T","args":[]})")
                .rfind("jobs must have a reasonable jid parameter", 0),
            0u);
  limits.job_bytes_max = 1 << 20;
  EXPECT_EQ(Push(R"({"jid":"abcdefgh","jobtype":"T","args":[],"queue":")" + std::string(300, 'q') +
                 R"("})")
                .rfind("cannot get", 0),
            0u);
}

TEST_F(JobDecoderTest, DecodeManyForPushb) {
  std::vector<core::JobSpec> jobs;
  ASSERT_TRUE(d.DecodeMany(R"([{"jid":"abcdefgh","jobtype":"T","args":[1]},null,{"jid":"x"}])",
                           &jobs)
                  .ok());
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].args_json, "[1]");
  EXPECT_TRUE(jobs[1].jid.empty());
  EXPECT_TRUE(d.DecodeMany("null", &jobs).ok());
  EXPECT_TRUE(jobs.empty());
  const core::OpStatus object = d.DecodeMany("{}", &jobs);
  EXPECT_TRUE(absl::IsInvalidArgument(object));
  EXPECT_EQ(std::string(object.message()).rfind("invalid JSON: ", 0), 0u);
  EXPECT_FALSE(d.DecodeMany(R"([{"jid":"abcdefgh","retry":"x"}])", &jobs).ok());
  EXPECT_FALSE(d.DecodeMany("[1,2", &jobs).ok());
}

// Faktory Enterprise fields in `custom` are seen (net/enterprise_fields.h)
// and the job is decoded exactly as without them.
TEST_F(JobDecoderTest, SeesEnterpriseFieldsAndKeepsTheJob) {
  const std::string custom =
      R"({"unique_for":60, "unique_until":"start","expires_at":"2030-01-01T00:00:00Z",)"
      R"("expires_in":3600,"bid":"b-1","track":1,"other":{"unique_for":1}} )";
  const std::string json = R"({"jid":"abcdefgh","jobtype":"T","args":[1],"custom":)" + custom +
                           R"(,"queue":"q"})";
  EnterpriseFieldUses uses;
  core::JobSpec job;
  ASSERT_TRUE(d.DecodeOne(json, &job, &uses).ok());
  EXPECT_EQ(job.custom_json, custom.substr(0, custom.size() - 1));  // trailing space trimmed
  EXPECT_EQ(job.queue, "q");
  EXPECT_EQ(job.args_json, "[1]");
  EXPECT_EQ(uses.seen, 0b111111);
  for (size_t i = 0; i < kEnterpriseFieldCount; ++i) EXPECT_EQ(uses.jobs[i], 1u) << i;
  // The same job decoded without counting.
  core::JobSpec plain;
  ASSERT_TRUE(d.DecodeOne(json, &plain).ok());
  EXPECT_EQ(plain.custom_json, job.custom_json);

  // Only top-level keys of `custom`, matched exactly, escapes decoded; a null
  // value is no use; an empty or absent `custom` costs nothing.
  EnterpriseFieldUses some;
  const auto decode = [&](const std::string& c) {
    core::JobSpec j;
    EXPECT_TRUE(d.DecodeOne(R"({"jid":"abcdefgh","jobtype":"T","args":[],"custom":)" + c + "}",
                            &j, &some)
                    .ok())
        << c;
    return j.custom_json;
  };
  EXPECT_EQ(decode(R"({"x":{"bid":"b"},"Unique_For":1,"track":null,"list":["expires_in"]})"),
            R"({"x":{"bid":"b"},"Unique_For":1,"track":null,"list":["expires_in"]})");
  EXPECT_EQ(decode("{ }"), "");
  EXPECT_EQ(decode("null"), "");
  EXPECT_EQ(some.seen, 0);
  EXPECT_EQ(decode(R"({"unique\u005ffor":5})"), R"({"unique\u005ffor":5})");
  EXPECT_EQ(some.seen, 0b1);
  EXPECT_EQ(some.jobs[0], 1u);
  // A repeated `custom`: the last is the job's.
  core::JobSpec j;
  ASSERT_TRUE(d.DecodeOne(R"({"custom":{"bid":"b"},"custom":{"a":1}})", &j, &some).ok());
  EXPECT_EQ(j.custom_json, R"({"a":1})");
  EXPECT_EQ(some.seen, 0b1);
  // A refused job is not counted.
  EXPECT_FALSE(d.DecodeOne(R"({"custom":{"bid":"b"},"retry":"x"})", &j, &some).ok());
  EXPECT_FALSE(d.DecodeOne(R"({"custom":{"bid":"b"},"custom":[]})", &j, &some).ok());
  EXPECT_EQ(some.seen, 0b1);
}

TEST_F(JobDecoderTest, DecodeManyCountsEnterpriseFieldsOfAWholeBatchOnly) {
  std::vector<core::JobSpec> jobs;
  EnterpriseFieldUses uses;
  ASSERT_TRUE(d.DecodeMany(R"([{"custom":{"unique_for":1}},{"custom":{"unique_for":2,"bid":"b"}},)"
                           R"({"custom":{}},null])",
                           &jobs, &uses)
                  .ok());
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[1].custom_json, R"({"unique_for":2,"bid":"b"})");
  EXPECT_EQ(uses.jobs[0], 2u);  // custom.unique_for
  EXPECT_EQ(uses.jobs[4], 1u);  // custom.bid
  EXPECT_FALSE(
      d.DecodeMany(R"([{"custom":{"unique_for":1}},{"retry":"x"}])", &jobs, &uses).ok());
  EXPECT_EQ(uses.jobs[0], 2u);
}

TEST_F(JobDecoderTest, DeepNestingIsRejectedNotACrash) {
  std::string deep = R"({"jid":"abcdefgh","jobtype":"T","args":[)";
  for (int i = 0; i < 5000; ++i) deep += "[";
  for (int i = 0; i < 5000; ++i) deep += "]";
  deep += "]}";
  EXPECT_EQ(Push(deep).rfind("invalid JSON: ", 0), 0u);
  // A megabyte of brackets must not exhaust the stack either.
  EXPECT_EQ(Push(std::string(1 << 20, '[')).rfind("invalid JSON: ", 0), 0u);
  std::string ok = R"({"jid":"abcdefgh","jobtype":"T","args":[)";
  for (int i = 0; i < 100; ++i) ok += "[";
  for (int i = 0; i < 100; ++i) ok += "]";
  EXPECT_EQ(Push(ok + "]}"), "");
}

TEST(QueueNames, Rule) {
  EXPECT_TRUE(core::ValidQueueName("default"));
  EXPECT_TRUE(core::ValidQueueName("a.b-c_D9"));
  EXPECT_FALSE(core::ValidQueueName(""));
  EXPECT_FALSE(core::ValidQueueName("a b"));
  EXPECT_FALSE(core::ValidQueueName("a/b"));
  EXPECT_FALSE(core::ValidQueueName("caf\xc3\xa9"));
}

}  // namespace
}  // namespace werk::net
