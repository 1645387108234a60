#pragma once
// Replaying logged records: the same Apply as the live path, with the
// verdict recovery needs. On replay every record must apply exactly as it did
// when it was logged (Apply is deterministic and the live path logs only
// records that applied); one that does not decode or does not apply means the
// log and the recovered state disagree, and recovery stops on it, naming it
// (docs/wal-format.md, R14).

#include <string>
#include <string_view>

#include <absl/status/status.h>

#include "core/journal.h"
#include "core/mutation.h"
#include "core/op_status.h"
#include "core/state_machine.h"

namespace werk::core {

// A one-line summary of a record (type, time, jids, queues, steps of a
// global operation): for recovery errors and werk-wal-dump.
std::string DescribeMutation(const Mutation& m);

// Decodes and applies one record read from the log. OK when it applied (or
// is a global operation already applied); otherwise an error naming it.
absl::Status ReplayRecord(StateMachine& sm, std::string_view body);

// An epoch record names its own LSN and epoch (Apply knows neither): OK
// unless `body` is an epoch record whose LSN or epoch is not the frame's
// (the log is wrong). Cheap for every other record: one byte is read.
absl::Status CheckRecordPlace(std::string_view body, Lsn lsn, Epoch epoch);

// On a standby: applies one record of the primary's log, then appends its
// body, as is, to the standby's journal (the same LSN, since both logs hold
// the same records in the same order). Unlike ReplayRecord it frees nothing
// at once: the standby serves reads meanwhile, and its reclaimer frees what
// a FLUSH removed a slice at a time. An error (nothing appended) means the
// two logs disagree.
OpStatus ApplyReplicatedRecord(StateMachine& sm, Journal& journal, std::string_view body);

}  // namespace werk::core
