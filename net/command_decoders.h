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

// Each returns false on malformed input; `error` then holds a description.
bool DecodeHello(JobDecoder& d, std::string_view json, HelloArgs* out, std::string* error);
// ACK's argument must be an object of string values containing "jid".
bool DecodeAck(JobDecoder& d, std::string_view json, std::string* jid);
bool DecodeFail(JobDecoder& d, std::string_view json, FailArgs* out);
bool DecodeBeat(JobDecoder& d, std::string_view json, BeatArgs* out);
bool DecodeMutate(JobDecoder& d, std::string_view json, MutateArgs* out, std::string* error);

}  // namespace werk::net
