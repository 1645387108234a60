#pragma once
// Builds version 3 segment images by hand, write by write, laid out as the
// Wal lays them out: the header, then per write a marker and its records.

#include <optional>
#include <string>
#include <vector>

#include "wal/log_format.h"
#include "wal/log_reader.h"

namespace werk::testing {

class SegmentBuilder {
 public:
  explicit SegmentBuilder(uint64_t first_lsn, uint64_t salt = 0x5a17, uint64_t epoch = 1,
                          uint64_t segment_id = 1)
      : data_(wal::kSegmentHeaderBytes, '\0'),
        first_lsn_(first_lsn),
        next_lsn_(first_lsn),
        durable_(first_lsn - 1),
        salt_(salt),
        epoch_(epoch) {
    wal::SegmentHeader h;
    h.segment_id = segment_id;
    h.first_lsn = first_lsn;
    h.epoch = epoch;
    h.salt = salt;
    wal::EncodeSegmentHeader(h, data_.data());
  }

  // One write of these record bodies; its marker states `durable` (by
  // default: everything written before it, i.e. the previous write had
  // completed when it was issued). Returns the marker's offset.
  uint64_t Write(const std::vector<std::string>& bodies,
                 std::optional<uint64_t> durable = std::nullopt) {
    const uint64_t at = data_.size();
    std::string w(wal::kWriteMarkerFrameBytes, '\0');
    const uint64_t first = next_lsn_;
    for (const auto& b : bodies)
      wal::AppendFrame(w, core::Lsn(next_lsn_++), core::Epoch(epoch_), 1, b, salt_);
    wal::WriteMarker m;
    m.sequence = sequence_++;
    m.durable_lsn = durable.value_or(durable_);
    m.write_bytes = w.size();
    wal::EncodeWriteMarker(m, core::Lsn(first), core::Epoch(epoch_), salt_, w.data());
    data_ += w;
    durable_ = next_lsn_ - 1;
    write_offsets_.push_back(at);
    return at;
  }
  // `n` records with bodies "body-<lsn>".
  uint64_t Write(int n, std::optional<uint64_t> durable = std::nullopt) {
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) bodies.push_back("body-" + std::to_string(next_lsn_ + uint64_t(i)));
    return Write(bodies, durable);
  }

  std::string& data() { return data_; }
  uint64_t next_lsn() const { return next_lsn_; }
  uint64_t salt() const { return salt_; }
  const std::vector<uint64_t>& write_offsets() const { return write_offsets_; }
  // The offset of record `lsn`'s frame header.
  uint64_t RecordOffset(uint64_t lsn) const {
    wal::LogReader r(data_, ReadOptions(false));
    wal::Frame f;
    while (r.Next(&f) == wal::ReadOutcome::kRecord)
      if (f.header.type == 1 && f.header.lsn == lsn) return f.offset;
    return UINT64_MAX;
  }
  wal::LogReader::Options ReadOptions(bool newest = true) const {
    wal::LogReader::Options o;
    o.expected_lsn = core::Lsn(first_lsn_);
    o.salt = salt_;
    o.newest = newest;
    o.write_markers = true;
    return o;
  }

 private:
  std::string data_;
  uint64_t first_lsn_;
  uint64_t next_lsn_;
  uint64_t durable_;
  uint64_t sequence_ = 1;
  uint64_t salt_;
  uint64_t epoch_;
  std::vector<uint64_t> write_offsets_;
};

}  // namespace werk::testing
