#pragma once
// Read-only inspection of werk's write-ahead logs, for incidents: lists
// segments and checkpoints, verifies every checksum, LSN and epoch and
// prints the first bad byte; replays the log after the newest checkpoint
// into a state machine, as recovery would, naming every record that does
// not apply. One implementation behind `werkctl wal dump|verify` and the
// older `werk-wal-dump` (kept as is for scripts).
//
// It never modifies anything (recovery at start does the truncating). A
// directory a running werkd holds can be read: the newest segments' end is
// shown as the live end, not judged as damage.

#include <cstdint>
#include <string>

namespace werk::tools {

struct WalInspectOptions {
  bool records = false;    // print every record
  uint64_t lsn = 0;        // print only this record (0: none)
  int64_t cut_after = -1;  // print what cutting after this LSN would drop (-1: no)
};

// `path`: a data directory (every shard under wal/) or one shard's log
// directory. Returns the exit status: 0 all verified, 1 corruption found,
// 2 I/O or usage error; with cut_after, 0 if every cut would proceed, 1 if
// one would be refused. `program` names the tool in messages.
int InspectWal(const std::string& path, const WalInspectOptions& options, const char* program);

}  // namespace werk::tools
