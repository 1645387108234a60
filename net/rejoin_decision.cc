#include "net/rejoin_decision.h"

namespace werk::net {

namespace {

std::string Range(const DivergedTail& t) {
  return std::to_string(t.records) + (t.records == 1 ? " record" : " records") + " (LSN " +
         std::to_string(t.first.value()) + ".." + std::to_string(t.last.value()) + ")";
}

// Why some dropped record may have been acknowledged, or empty.
std::string WhyAcknowledged(const DivergedTail& t) {
  if (t.alone_since)
    return "this server has acknowledged writes with no standby since LSN " +
           std::to_string(t.alone_since->value());
  if (t.replication_record)
    return "a replication record at LSN " + std::to_string(t.replication_record->value()) +
           " says this server acknowledged writes with no standby within them";
  return {};
}

}  // namespace

RejoinDecision DecideRejoin(const DivergedTail& t, bool discard_diverged) {
  RejoinDecision d;
  const std::string shard = "shard " + std::to_string(t.shard);
  const std::string fork =
      "its log diverged from the primary's at LSN " + std::to_string(t.fork.value());
  if (!t.cut_refused.empty() && !t.needs_bootstrap) {
    d.message = shard + ": " + fork + ", and it cannot be cut there: " + t.cut_refused +
                ". Move this data directory aside and start the standby from an empty one";
    return d;
  }
  if (t.needs_bootstrap) {
    // Records from the fork to the checkpoint are only in its state: no
    // log says how they were acknowledged.
    d.possibly_acknowledged = true;
    const std::string why =
        t.alone_since ? WhyAcknowledged(t)
                      : "the records from the fork to its checkpoint are only in that "
                        "checkpoint, so whether some were acknowledged with no standby cannot "
                        "be read";
    if (!discard_diverged) {
      d.message = shard + ": " + fork + ", and it cannot be cut there (" + t.cut_refused +
                  "): rejoining means dropping this shard's whole log and bootstrapping from "
                  "the primary's checkpoint, and " + why +
                  ". Refusing: start with --discard-diverged to do it (a copy of the log is kept "
                  "aside in the data directory), or without --replica-of to keep the log";
      return d;
    }
    d.discard = true;
    d.bootstrap = true;
    d.message = shard + ": " + fork + ": dropping this shard's whole log (it cannot be cut "
                "there: " + t.cut_refused + ") and bootstrapping from the primary's checkpoint, "
                "as --discard-diverged asks, although " + why + "; a copy of the log is kept aside";
    return d;
  }
  const std::string why = WhyAcknowledged(t);
  d.possibly_acknowledged = !why.empty();
  if (d.possibly_acknowledged && !discard_diverged) {
    d.message = shard + ": " + fork + ": rejoining drops " + Range(t) +
                ", and some may have been acknowledged to clients (" + why +
                "). Refusing to discard them: start with --discard-diverged to drop them (a "
                "copy of the log is kept aside in the data directory), or without --replica-of "
                "to keep them";
    return d;
  }
  d.discard = true;
  if (d.possibly_acknowledged) {
    d.message = shard + ": " + fork + ": discarding " + Range(t) +
                " as --discard-diverged asks, although some may have been acknowledged to "
                "clients (" +
                why + "); a copy of the log is kept aside";
  } else {
    d.message = shard + ": " + fork + ": discarding " + Range(t) +
                " the primary never had; none was acknowledged to a client (they were written "
                "while every write waited for a standby); a copy of the log is kept aside";
  }
  return d;
}

}  // namespace werk::net
