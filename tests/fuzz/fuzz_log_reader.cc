// Arbitrary bytes as a log segment and as a checkpoint image: the reader and
// the checkpoint loader must classify or reject them, never crash, and a
// checkpoint that loads must restore a usable state machine.

#include <cstdint>
#include <string_view>

#include "core/mutation.h"
#include "core/state_machine.h"
#include "wal/checkpoint.h"
#include "wal/log_reader.h"

using namespace werk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool newest : {false, true}) {
    wal::LogReader::Options o;
    o.start_offset = 0;
    o.newest = newest;
    o.salt = newest ? 0x5eed : 0;  // both the unseeded and a seeded frame hash
    o.torn_window_bytes = 256;
    wal::LogReader reader(bytes, o);
    wal::Frame f;
    while (reader.Next(&f) == wal::ReadOutcome::kRecord) (void)core::DecodeMutation(f.body);
  }
  core::StateMachine sm(0);
  wal::CheckpointHeader h;
  if (wal::LoadCheckpoint(bytes, 0, &h, [&](core::SnapshotItemType t, std::string_view b) {
        return sm.RestoreItem(t, b);
      }).ok()) {
    std::vector<const core::Job*> due;
    sm.DueJobs(INT64_MAX / 2'000'000, due, 1000);
    (void)sm.StateHash();
  }
  return 0;
}
