#include "core/op_status.h"

#include <string>

namespace werk::core {

// (Debian's abseil has its own string_view: messages go in as std::string.)

OpStatus LogFailed() { return absl::UnavailableError(std::string(kLogFailedMessage)); }

OpStatus NotPrimary(std::string_view primary) {
  if (primary.empty()) return absl::FailedPreconditionError(std::string(kStandbyMessage));
  return absl::FailedPreconditionError(std::string(kStandbyMessage) +
                                       " (its replication address is " + std::string(primary) +
                                       ")");
}

OpStatus NoStandby(std::string_view why) {
  return absl::UnavailableError(std::string(kNoStandbyMessage) + " (" + std::string(why) +
                                "); writes resume once it is back");
}

OpStatus Deposed(uint64_t epoch, std::string_view primary) {
  return absl::FailedPreconditionError(
      std::string(kDeposedMessage) + std::to_string(epoch) + ": it takes no writes; " +
      (primary.empty() ? std::string("the new primary's address is unknown")
                       : "the primary is " + std::string(primary) + " (its replication address)"));
}

OpStatus JobNotFound(std::string_view jid) {
  return absl::NotFoundError("Job not found " + std::string(jid));
}

OpStatus JidInUse(std::string_view jid) {
  return absl::AlreadyExistsError("jid " + std::string(jid) + " is already in use by a live job");
}

OpStatus CronTickFired(std::string_view jid) {
  return absl::AlreadyExistsError("cron tick " + std::string(jid) + " has fired already");
}

OpStatus CronJidTaken(std::string_view jid) {
  return absl::FailedPreconditionError("the jid " + std::string(jid) +
                                       " of a cron tick is held by a job a client pushed");
}

OpStatus UnknownWorker(std::string_view wid) {
  return absl::NotFoundError("unknown worker " + std::string(wid));
}

OpStatus InvalidRequest(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

}  // namespace werk::core
