#pragma once
// How an entry's identity is computed (entry.h, Entry::id), for the loader.

#include <cstdint>

#include "cron/entry.h"

namespace werk::cron {

// XXH3-64 of "name:" + name when the entry has a name, else of its content
// in a canonical form: each field of the schedule and the job template
// (after defaults are applied, so `queue = "default"` and no queue are one
// entry) as "<key>=<length>:<value>;". Never 0.
uint64_t EntryIdentity(const Entry& e);

}  // namespace werk::cron
