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

#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {

// A one-line summary of a record (type, time, jids, queues, steps of a
// global operation): for recovery errors and werk-wal-dump.
std::string DescribeMutation(const Mutation& m);

// Decodes and applies one record read from the log. OK when it applied (or
// is a global operation already applied); otherwise an error naming it.
absl::Status ReplayRecord(StateMachine& sm, std::string_view body);

}  // namespace werk::core
