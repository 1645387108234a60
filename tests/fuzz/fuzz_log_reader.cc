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
  for (int pass = 0; pass < 3; ++pass) {
    // Versions 1/2 as an older and as the newest segment (the unseeded and
    // a seeded frame hash), and version 3 with write markers.
    wal::LogReader::Options o;
    o.start_offset = 0;
    o.newest = pass > 0;
    o.salt = pass > 0 ? 0x5eed : 0;
    o.write_markers = pass == 2;
    o.torn_window_bytes = 256;
    wal::LogReader reader(bytes, o);
    wal::Frame f;
    while (reader.Next(&f) == wal::ReadOutcome::kRecord) {
      if (f.header.type == uint16_t(wal::RecordType::kWrite)) continue;
      (void)core::DecodeMutation(f.body);
    }
  }
  // Recovery's view of a segment whose header may be damaged.
  wal::SegmentHeader sh;
  size_t byte;
  (void)wal::RepairSegmentHeader(bytes, &sh, &byte);
  (void)wal::ScanFrames(bytes, 0, 0x5eed);
  core::StateMachine sm(0);
  wal::CheckpointHeader h;
  if (wal::LoadCheckpoint(bytes, 0, &h, [&](core::SnapshotItemType t, std::string_view b) {
        return sm.RestoreItem(t, b);
      }).ok()) {
    sm.FinishRestore();
    std::vector<const core::Job*> due;
    sm.DueJobs(INT64_MAX / 2'000'000, due, 1000);
    (void)sm.StateHash();
  }
  return 0;
}
