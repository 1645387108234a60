#pragma once
// Decodes and validates jobs from PUSH and PUSHB (reference §3.1, §3.3).
//
// Decoding checks the whole document (every nested value, not just the
// fields we read), so a job accepted here is always valid JSON when it is
// handed to a worker. `args` and `custom` are kept as the client's bytes.
// Unknown top-level keys are dropped, as Faktory drops them; key names match
// case-insensitively, as Go's decoder does.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/job_validation.h"
#include "core/op_status.h"
#include "core/types.h"
#include "net/enterprise_fields.h"
#include "net/input_buffer.h"

namespace werk::net {

using core::JobLimits;

class JsonDecoder;  // simdjson state, reused across calls (one per shard)

class JobDecoder {
 public:
  // `root_depth`: the nesting level DecodeOne counts a document's root at.
  explicit JobDecoder(int root_depth = 1);
  ~JobDecoder();
  JobDecoder(const JobDecoder&) = delete;
  JobDecoder& operator=(const JobDecoder&) = delete;

  // PUSH: decodes one job object into `out`. On failure: InvalidRequest
  // with the full text a client reads (e.g. "invalid JSON: ..."). On
  // success the job's Enterprise fields are counted in `uses`, if given.
  core::OpStatus DecodeOne(std::string_view json, core::JobSpec* out,
                           EnterpriseFieldUses* uses = nullptr);
  // PUSHB: decodes an array of job objects. A JSON or type error anywhere
  // fails the whole batch, as in Faktory (and nothing is counted).
  core::OpStatus DecodeMany(std::string_view json, std::vector<core::JobSpec>* out,
                            EnterpriseFieldUses* uses = nullptr);

  JsonDecoder& json() { return *json_; }

 private:
  std::unique_ptr<JsonDecoder> json_;
  int root_depth_ = 1;
};

// PUSHB of a long line, decoded a slice at a time so that no shard is held
// for long (net/shard_commands.cc): Start indexes the array once (a copy and
// simdjson's structural pass), then each Next decodes a few more elements,
// each checked as a whole document, as DecodeOne checks a PUSH. A JSON or
// type error anywhere still fails the whole batch: the caller pushes
// nothing until done().
class JobBatchDecoder {
 public:
  JobBatchDecoder();
  ~JobBatchDecoder();
  JobBatchDecoder(const JobBatchDecoder&) = delete;
  JobBatchDecoder& operator=(const JobBatchDecoder&) = delete;

  // Copies `json`. Failures are DecodeMany's.
  core::OpStatus Start(std::string_view json);
  // Takes `block` holding the JSON at `offset`, `len` bytes, with at least
  // 64 bytes allocated after it (`capacity` bytes in all): no copy.
  core::OpStatus Start(MallocBytes block, size_t offset, size_t len, size_t capacity);
  static constexpr size_t kPaddingBytes = 64;  // simdjson's
  // Appends up to `max` more jobs to `out`.
  core::OpStatus Next(size_t max, std::vector<core::JobSpec>* out);
  bool done() const;
  // The Enterprise fields of the jobs decoded so far.
  const EnterpriseFieldUses& field_uses() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace werk::net
