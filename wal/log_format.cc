#include "wal/log_format.h"

#include <xxhash.h>

#include <sys/random.h>

#include <bit>
#include <chrono>

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
  Put<uint64_t>(out + 48, h.salt);
  Put<uint64_t>(out + 56, XXH3_64bits(out, 56));
}

HeaderStatus DecodeSegmentHeader(std::string_view in, SegmentHeader* h) {
  if (in.size() < kSegmentHeaderBytes) return AllZero(in) ? HeaderStatus::kZero : HeaderStatus::kBadHash;
  in = in.substr(0, kSegmentHeaderBytes);
  if (AllZero(in)) return HeaderStatus::kZero;
  if (in.substr(0, 8) != kSegmentMagic) return HeaderStatus::kBadMagic;
  if (Get<uint64_t>(in.data() + 56) != XXH3_64bits(in.data(), 56)) return HeaderStatus::kBadHash;
  h->version = Get<uint32_t>(in.data() + 8);
  if (h->version < 1 || h->version > kFormatVersion) return HeaderStatus::kBadVersion;
  h->shard = Get<uint32_t>(in.data() + 12);
  h->segment_id = Get<uint64_t>(in.data() + 16);
  h->first_lsn = Get<uint64_t>(in.data() + 24);
  h->epoch = Get<uint64_t>(in.data() + 32);
  h->created_at = Get<int64_t>(in.data() + 40);
  h->salt = Get<uint64_t>(in.data() + 48);
  if (h->version == 1 && h->salt != 0) return HeaderStatus::kBadVersion;
  return HeaderStatus::kOk;
}

bool RepairSegmentHeader(std::string_view in, SegmentHeader* h, size_t* byte) {
  if (in.size() < kSegmentHeaderBytes) return false;
  char buf[kSegmentHeaderBytes];
  std::memcpy(buf, in.data(), kSegmentHeaderBytes);
  for (size_t i = 0; i < kSegmentHeaderBytes; ++i) {
    const char was = buf[i];
    for (int v = 0; v < 256; ++v) {
      if (char(v) == was) continue;
      buf[i] = char(v);
      if (DecodeSegmentHeader({buf, sizeof buf}, h) == HeaderStatus::kOk) {
        *byte = i;
        return true;
      }
    }
    buf[i] = was;
  }
  return false;
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
  if (h->version < 1 || h->version > kCheckpointFormatVersion) return HeaderStatus::kBadVersion;
  h->shard = Get<uint32_t>(in.data() + 12);
  h->lsn = Get<uint64_t>(in.data() + 16);
  h->epoch = Get<uint64_t>(in.data() + 24);
  h->created_at = Get<int64_t>(in.data() + 32);
  h->item_count = Get<uint64_t>(in.data() + 40);
  return HeaderStatus::kOk;
}

uint64_t BodyHash(std::string_view body) { return XXH3_64bits(body.data(), body.size()); }

namespace {

// One frame header for `body`, hashed with `salt`, at out[0, 40).
void EncodeFrameHeader(char* h, uint64_t lsn, uint64_t epoch, uint16_t type,
                       std::string_view body, uint64_t salt) {
  Put<uint64_t>(h + 8, BodyHash(body));
  Put<uint64_t>(h + 16, lsn);
  Put<uint64_t>(h + 24, epoch);
  Put<uint32_t>(h + 32, uint32_t(body.size()));
  Put<uint16_t>(h + 36, type);
  Put<uint16_t>(h + 38, kFrameVersion);
  // Seed 0 is the unseeded hash: version 1 segments and checkpoints.
  Put<uint64_t>(h, XXH3_64bits_withSeed(h + 8, kFrameHeaderBytes - 8, salt));
}

}  // namespace

void AppendFrame(std::string& out, core::Lsn lsn, core::Epoch epoch, uint16_t type,
                 std::string_view body, uint64_t salt) {
  char h[kFrameHeaderBytes];
  EncodeFrameHeader(h, lsn.value(), epoch.value(), type, body, salt);
  out.append(h, kFrameHeaderBytes);
  out.append(body);
}

void EncodeWriteMarker(const WriteMarker& m, core::Lsn lsn, core::Epoch epoch, uint64_t salt,
                       char* out) {
  char* body = out + kFrameHeaderBytes;
  Put<uint64_t>(body, m.sequence);
  Put<uint64_t>(body + 8, m.durable_lsn);
  Put<uint64_t>(body + 16, m.write_bytes);
  EncodeFrameHeader(out, lsn.value(), epoch.value(), uint16_t(RecordType::kWrite),
                    {body, kWriteMarkerBodyBytes}, salt);
}

bool DecodeWriteMarker(std::string_view body, WriteMarker* m) {
  if (body.size() != kWriteMarkerBodyBytes) return false;
  m->sequence = Get<uint64_t>(body.data());
  m->durable_lsn = Get<uint64_t>(body.data() + 8);
  m->write_bytes = Get<uint64_t>(body.data() + 16);
  return true;
}

bool DecodeFrameHeader(std::string_view in, FrameHeader* h, uint64_t salt) {
  if (in.size() < kFrameHeaderBytes) return false;
  if (Get<uint64_t>(in.data()) != XXH3_64bits_withSeed(in.data() + 8, kFrameHeaderBytes - 8, salt))
    return false;
  h->lsn = Get<uint64_t>(in.data() + 16);
  h->epoch = Get<uint64_t>(in.data() + 24);
  h->body_bytes = Get<uint32_t>(in.data() + 32);
  h->type = Get<uint16_t>(in.data() + 36);
  h->version = Get<uint16_t>(in.data() + 38);
  return true;
}

uint64_t StoredBodyHash(std::string_view frame_header) { return Get<uint64_t>(frame_header.data() + 8); }

uint64_t NextSalt(uint64_t prev, uint64_t id) {
  const uint64_t s = XXH3_64bits_withSeed(&id, sizeof id, prev ^ 0x9e3779b97f4a7c15ull);
  return s == 0 ? 1 : s;
}

uint64_t FreshSalt() {
  uint64_t s = 0;
  if (::getrandom(&s, sizeof s, 0) != sizeof s) {
    // No entropy source: the salt still separates a file's uses (its id
    // and the time differ), it is only guessable.
    s = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return s == 0 ? 1 : s;
}

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

std::string RecycledName(uint64_t id) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020llu.free", static_cast<unsigned long long>(id));
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

bool ParseRecycledName(std::string_view name, uint64_t* id) {
  if (name.size() != 25 || name.substr(20) != ".free") return false;
  return ParseDigits(name.substr(0, 20), id);
}

bool ParseCheckpointName(std::string_view name, uint64_t* lsn) {
  if (name.size() != 36 || name.substr(0, 11) != "checkpoint-" || name.substr(31) != ".ckpt")
    return false;
  return ParseDigits(name.substr(11, 20), lsn);
}

}  // namespace werk::wal
