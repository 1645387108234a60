// A PUSHB decoded a slice at a time (JobBatchDecoder) accepts and refuses
// exactly what the one-shot decoder does, with the same jobs, whatever the
// slice size and whether it copies the line or takes the buffer it was
// received in.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/job_decoder.h"

namespace werk::net {
namespace {

struct Outcome {
  bool ok = false;
  std::vector<core::JobSpec> jobs;
  std::string error;
};

// Keeps a refusal's message; true if `s` is OK.
bool Take(const core::OpStatus& s, Outcome* o) {
  if (!s.ok()) o->error = std::string(s.message());
  return s.ok();
}

Outcome OneShot(std::string_view json) {
  JobDecoder d;
  Outcome o;
  o.ok = Take(d.DecodeMany(json, &o.jobs), &o);
  return o;
}

Outcome Sliced(std::string_view json, size_t slice, bool take_block) {
  JobBatchDecoder d;
  Outcome o;
  if (take_block) {
    // The line inside a larger block, followed by bytes of the next command.
    const std::string before = "PUSHB ";
    const std::string after = "\r\nPUSH {\"jid\":\"x\"}\r\n" + std::string(64, '?');
    MallocBytes block = AllocateBytes(before.size() + json.size() + after.size());
    std::memcpy(block.get(), before.data(), before.size());
    std::memcpy(block.get() + before.size(), json.data(), json.size());
    std::memcpy(block.get() + before.size() + json.size(), after.data(), after.size());
    o.ok = Take(d.Start(std::move(block), before.size(), json.size(),
                        before.size() + json.size() + after.size()),
                &o);
  } else {
    o.ok = Take(d.Start(json), &o);
  }
  while (o.ok && !d.done()) o.ok = Take(d.Next(slice, &o.jobs), &o);
  if (!o.ok) o.jobs.clear();
  return o;
}

std::string Jobs(int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += R"({"jid":"job-)" + std::to_string(100000 + i) +
         R"(","jobtype":"T","args":[1,{"a":[null,true,"x\u00e9"]}],"custom":{"k":)" +
         std::to_string(i) + "}}";
  }
  return s + "]";
}

TEST(JobBatchDecoder, AgreesWithTheOneShotDecoder) {
  std::string deep_ok = "[{\"jid\":\"deep-job-1\",\"args\":";
  std::string deep_bad = deep_ok;
  // Nesting at the limit and one past it: an element decoded on its own
  // counts its depth as inside the array.
  for (int i = 0; i < 254; ++i) deep_ok += "[";
  for (int i = 0; i < 254; ++i) deep_ok += "]";
  deep_ok += "}]";
  for (int i = 0; i < 255; ++i) deep_bad += "[";
  for (int i = 0; i < 255; ++i) deep_bad += "]";
  deep_bad += "}]";
  ASSERT_TRUE(OneShot(deep_ok).ok);
  ASSERT_FALSE(OneShot(deep_bad).ok);
  const std::vector<std::string> inputs = {
      Jobs(1), Jobs(7), Jobs(300), "[]", " [ ] ", "null", "[null]", "[{}]",
      "[" + Jobs(3).substr(1, Jobs(3).size() - 2) + ",]",  // trailing comma
      Jobs(5) + " x",                                     // after the array
      Jobs(5) + "]",
      "[1]", "[\"s\"]", "[[]]", "{}", "\"str\"", "42", "", "   ", "[", "[{\"jid\":\"a\"",
      "[{\"jid\":\"abcdefgh\",\"args\":[1,2}]",  // bad element mid-array
      "[{\"jid\":\"abcdefgh\"} {\"jid\":\"ijklmnop\"}]",  // missing comma
      "[{\"jid\":\"abcdefgh\",\"args\":[nul]}]",
      "[{\"jid\":\"abcdefgh\",\"retry\":\"x\"}]",  // a type error in one job
      deep_ok, deep_bad,
  };
  for (const std::string& in : inputs) {
    const Outcome want = OneShot(in);
    for (size_t slice : {1u, 2u, 64u, 1000u}) {
      for (bool take : {false, true}) {
        const Outcome got = Sliced(in, slice, take);
        ASSERT_EQ(got.ok, want.ok) << in.substr(0, 80) << " slice " << slice << ": " << got.error
                                   << " / " << want.error;
        if (!want.ok) {
          EXPECT_EQ(got.error.rfind("invalid JSON", 0), 0u) << got.error;
          continue;
        }
        ASSERT_EQ(got.jobs.size(), want.jobs.size()) << in.substr(0, 80);
        for (size_t i = 0; i < want.jobs.size(); ++i) EXPECT_EQ(got.jobs[i], want.jobs[i]);
      }
    }
  }
}

// The sliced decoder counts the Enterprise fields as the one-shot one does.
TEST(JobBatchDecoder, CountsEnterpriseFieldsAsTheOneShotDecoder) {
  std::string json = "[";
  for (int i = 0; i < 300; ++i) {
    if (i) json += ",";
    json += R"({"jid":"job-)" + std::to_string(100000 + i) + R"(","jobtype":"T","args":[],)" +
            (i % 3 == 0 ? R"("custom":{"unique_for":60,"bid":"b-1"}})" : R"("custom":{"k":1}})");
  }
  json += "]";
  JobDecoder one;
  std::vector<core::JobSpec> jobs;
  EnterpriseFieldUses expected;
  ASSERT_TRUE(one.DecodeMany(json, &jobs, &expected).ok());
  EXPECT_EQ(expected.jobs[0], 100u);
  JobBatchDecoder d;
  ASSERT_TRUE(d.Start(json).ok());
  while (!d.done()) ASSERT_TRUE(d.Next(7, &jobs).ok());
  EXPECT_EQ(d.field_uses().jobs, expected.jobs);
  EXPECT_EQ(d.field_uses().seen, expected.seen);
}

TEST(InputBufferHandover, TheLineLeavesWithItsBlockAndTheRestStays) {
  InputBuffer b;
  ASSERT_TRUE(b.Prepare(1 << 20));
  const std::string data = "PUSHB [1,2]\r\nINFO\r\nPAR";
  std::memcpy(b.write_ptr(), data.data(), data.size());
  b.Produced(data.size());
  std::string_view line;
  ASSERT_TRUE(b.NextLine(&line));
  ASSERT_EQ(line, "PUSHB [1,2]");
  size_t offset = 0, capacity = 0;
  const std::string_view arg = line.substr(6);
  MallocBytes block = b.TakeLineBlock(arg, 64, &offset, &capacity);
  ASSERT_TRUE(block);
  EXPECT_EQ(std::string_view(block.get() + offset, arg.size()), "[1,2]");
  EXPECT_GE(capacity, offset + arg.size() + 64);
  ASSERT_TRUE(b.NextLine(&line));
  EXPECT_EQ(line, "INFO");
  EXPECT_FALSE(b.NextLine(&line));
  EXPECT_EQ(b.size(), 3u);  // "PAR", waiting for its newline
  // No room for the padding after the line: nothing is handed over.
  InputBuffer full;
  ASSERT_TRUE(full.Prepare(1 << 20));
  const std::string exact = std::string(full.writable() - 2, 'x') + "\r\n";
  std::memcpy(full.write_ptr(), exact.data(), exact.size());
  full.Produced(exact.size());
  ASSERT_TRUE(full.NextLine(&line));
  EXPECT_FALSE(full.TakeLineBlock(line, 64, &offset, &capacity));
}

}  // namespace
}  // namespace werk::net
