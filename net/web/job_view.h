#pragma once
// A job's JSON (as FETCH renders it, failure included) read back into the
// fields the Web UI shows. The JSON is the server's own rendering, but its
// contents (args, custom, error text) are a client's: every field is shown
// escaped, and args are cut for display as Faktory's UI cuts them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace werk::net::web {

// Faktory's UI shows each argument up to 1024 characters.
inline constexpr size_t kArgDisplayMax = 1024;

struct JobView {
  bool ok = false;  // the JSON was read
  std::string jid, jobtype, queue;
  std::vector<std::string> args;  // each argument as compact JSON
  std::string args_json;          // the whole array, compact
  std::string created_at, enqueued_at, at;
  int64_t retry = 0;
  bool has_retry = false;
  std::string custom_json;  // "" without
  bool failed = false;
  int64_t retry_count = 0;
  std::string failed_at, next_at, errtype, message;
  std::vector<std::string> backtrace;
};

JobView ReadJobView(std::string_view json);

// One argument for a table cell: at most kArgDisplayMax characters, then "…".
std::string ShortArg(std::string_view arg);

}  // namespace werk::net::web
