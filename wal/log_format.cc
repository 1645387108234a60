#include "wal/log_format.h"

#include <xxhash.h>

#include <bit>

#include <cstdio>
#include <cstring>

namespace werk::wal {
namespace {

template <typename T>
void Put(char* p, T v) {
  std::memcpy(p, &v, sizeof v);  // little-endian hosts only (checked below)
}
template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
static_assert(std::endian::native == std::endian::little, "the on-disk format is little-endian");

bool AllZero(std::string_view s) {
  for (char c : s)
    if (c != 0) return false;
  return true;
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& h, char out[kSegmentHeaderBytes]) {
  std::memset(out, 0, kSegmentHeaderBytes);
  std::memcpy(out, kSegmentMagic.data(), 8);
  Put<uint32_t>(out + 8, h.version);
  Put<uint32_t>(out + 12, h.shard);
  Put<uint64_t>(out + 16, h.segment_id);
  Put<uint64_t>(out + 24, h.first_lsn);
  Put<uint64_t>(out + 32, h.epoch);
  Put<int64_t>(out + 40, h.created_at);
  Put<uint64_t>(out + 56, XXH3_64bits(out, 56));
}

HeaderStatus DecodeSegmentHeader(std::string_view in, SegmentHeader* h) {
  if (in.size() < kSegmentHeaderBytes) return AllZero(in) ? HeaderStatus::kZero : HeaderStatus::kBadHash;
  in = in.substr(0, kSegmentHeaderBytes);
  if (AllZero(in)) return HeaderStatus::kZero;
  if (in.substr(0, 8) != kSegmentMagic) return HeaderStatus::kBadMagic;
  if (Get<uint64_t>(in.data() + 56) != XXH3_64bits(in.data(), 56)) return HeaderStatus::kBadHash;
  h->version = Get<uint32_t>(in.data() + 8);
  if (h->version != kFormatVersion) return HeaderStatus::kBadVersion;
  h->shard = Get<uint32_t>(in.data() + 12);
  h->segment_id = Get<uint64_t>(in.data() + 16);
  h->first_lsn = Get<uint64_t>(in.data() + 24);
  h->epoch = Get<uint64_t>(in.data() + 32);
  h->created_at = Get<int64_t>(in.data() + 40);
  return HeaderStatus::kOk;
}

void EncodeCheckpointHeader(const CheckpointHeader& h, char out[kCheckpointHeaderBytes]) {
  std::memset(out, 0, kCheckpointHeaderBytes);
  std::memcpy(out, kCheckpointMagic.data(), 8);
  Put<uint32_t>(out + 8, h.version);
  Put<uint32_t>(out + 12, h.shard);
  Put<uint64_t>(out + 16, h.lsn);
  Put<uint64_t>(out + 24, h.epoch);
  Put<int64_t>(out + 32, h.created_at);
  Put<uint64_t>(out + 40, h.item_count);
  Put<uint64_t>(out + 56, XXH3_64bits(out, 56));
}

HeaderStatus DecodeCheckpointHeader(std::string_view in, CheckpointHeader* h) {
  if (in.size() < kCheckpointHeaderBytes) return HeaderStatus::kBadHash;
  if (in.substr(0, 8) != kCheckpointMagic) return HeaderStatus::kBadMagic;
  if (Get<uint64_t>(in.data() + 56) != XXH3_64bits(in.data(), 56)) return HeaderStatus::kBadHash;
  h->version = Get<uint32_t>(in.data() + 8);
  if (h->version != kFormatVersion) return HeaderStatus::kBadVersion;
  h->shard = Get<uint32_t>(in.data() + 12);
  h->lsn = Get<uint64_t>(in.data() + 16);
  h->epoch = Get<uint64_t>(in.data() + 24);
  h->created_at = Get<int64_t>(in.data() + 32);
  h->item_count = Get<uint64_t>(in.data() + 40);
  return HeaderStatus::kOk;
}

uint64_t BodyHash(std::string_view body) { return XXH3_64bits(body.data(), body.size()); }

void AppendFrame(std::string& out, uint64_t lsn, uint64_t epoch, uint16_t type,
                 std::string_view body) {
  char h[kFrameHeaderBytes];
  Put<uint64_t>(h + 8, BodyHash(body));
  Put<uint64_t>(h + 16, lsn);
  Put<uint64_t>(h + 24, epoch);
  Put<uint32_t>(h + 32, uint32_t(body.size()));
  Put<uint16_t>(h + 36, type);
  Put<uint16_t>(h + 38, kFrameVersion);
  Put<uint64_t>(h, XXH3_64bits(h + 8, kFrameHeaderBytes - 8));
  out.append(h, kFrameHeaderBytes);
  out.append(body);
}

bool DecodeFrameHeader(std::string_view in, FrameHeader* h) {
  if (in.size() < kFrameHeaderBytes) return false;
  if (Get<uint64_t>(in.data()) != XXH3_64bits(in.data() + 8, kFrameHeaderBytes - 8)) return false;
  h->lsn = Get<uint64_t>(in.data() + 16);
  h->epoch = Get<uint64_t>(in.data() + 24);
  h->body_bytes = Get<uint32_t>(in.data() + 32);
  h->type = Get<uint16_t>(in.data() + 36);
  h->version = Get<uint16_t>(in.data() + 38);
  return true;
}

uint64_t StoredBodyHash(std::string_view frame_header) { return Get<uint64_t>(frame_header.data() + 8); }

std::string SegmentName(uint64_t id) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020llu.wal", static_cast<unsigned long long>(id));
  return buf;
}

std::string CheckpointName(uint64_t lsn) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "checkpoint-%020llu.ckpt", static_cast<unsigned long long>(lsn));
  return buf;
}

namespace {
bool ParseDigits(std::string_view s, uint64_t* out) {
  if (s.size() != 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

bool ParseSegmentName(std::string_view name, uint64_t* id) {
  if (name.size() != 24 || name.substr(20) != ".wal") return false;
  return ParseDigits(name.substr(0, 20), id);
}

bool ParseCheckpointName(std::string_view name, uint64_t* lsn) {
  if (name.size() != 36 || name.substr(0, 11) != "checkpoint-" || name.substr(31) != ".ckpt")
    return false;
  return ParseDigits(name.substr(11, 20), lsn);
}

}  // namespace werk::wal
