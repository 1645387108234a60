#pragma once
// Decoders for the JSON arguments of HELLO, ACK, FAIL, BEAT and MUTATE, with
// Faktory's error texts. They share the JobDecoder's simdjson state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutation.h"
#include "core/worker_table.h"
#include "net/job_decoder.h"

namespace werk::net {

struct HelloArgs {
  int64_t v = 0;
  std::string hostname;
  std::string wid;
  int64_t pid = 0;
  std::vector<std::string> labels;
  std::string pwdhash;
  std::string username;
};

using FailArgs = core::FailRequest;

using BeatArgs = core::WorkerBeat;

struct MutateArgs {
  std::string cmd;
  std::string target;
  std::optional<core::MutateFilter> filter;
};

// Each refuses malformed input with InvalidRequest and the text a client
// reads after "-ERR ": Go's decoder's for HELLO and MUTATE, "invalid ACK
// <argument>" (FAIL, BEAT) for the others.
core::OpStatus DecodeHello(JobDecoder& d, std::string_view json, HelloArgs* out);
// ACK's argument must be an object of string values containing "jid".
core::OpStatus DecodeAck(JobDecoder& d, std::string_view json, std::string* jid);
core::OpStatus DecodeFail(JobDecoder& d, std::string_view json, FailArgs* out);
core::OpStatus DecodeBeat(JobDecoder& d, std::string_view json, BeatArgs* out);
core::OpStatus DecodeMutate(JobDecoder& d, std::string_view json, MutateArgs* out);

// WERK JOBS (a werk extension, docs/compatibility.md): which page.
struct WerkJobsArgs {
  std::string target;  // retries, scheduled, dead or queue
  std::string queue;
  int64_t limit = 0;   // 0: the default
  std::string cursor;  // "": the first page
  std::optional<core::MutateFilter> filter;  // MUTATE's
};
// WERK WORKER: a process (or "all") and the state it is to take.
struct WerkWorkerArgs {
  std::string wid;
  std::string state;
};
core::OpStatus DecodeWerkJobs(JobDecoder& d, std::string_view json, WerkJobsArgs* out);
core::OpStatus DecodeWerkWorker(JobDecoder& d, std::string_view json, WerkWorkerArgs* out);

}  // namespace werk::net
