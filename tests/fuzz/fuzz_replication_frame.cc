// Arbitrary bytes as the replication stream (wal/replication_protocol.h):
// the decoder must say need-more, one message or an error for any input,
// never crash or read past it; what decodes must re-encode to the same
// bytes (each message has one form), and RECORDS frames must walk exactly
// to the end of the message.
//
// Random bytes almost never carry a valid message hash, so the input is
// also tried as one message's type and payload, wrapped in a correct
// envelope: that reaches every payload decoder.

#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "wal/replication_protocol.h"

using namespace werk;

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

// Decodes message after message, as a link's receive loop does.
void DecodeStream(std::string_view rest) {
  while (!rest.empty()) {
    const wal::DecodeResult r = wal::DecodeMessage(rest);
    if (r.outcome == wal::DecodeResult::Outcome::kNeedMore) {
      if (r.bytes <= rest.size()) Die("need-more for bytes already there");
      return;
    }
    if (r.outcome == wal::DecodeResult::Outcome::kError) {
      if (wal::ProtocolErrorName(r.error).empty()) Die("an error without a name");
      return;
    }
    if (r.bytes == 0 || r.bytes > rest.size()) Die("a message outside the buffer");
    std::string again;
    wal::AppendMessage(again, r.message.sender_epoch, r.message.body);
    if (again != rest.substr(0, r.bytes)) Die("decode/encode is not the identity");
    if (const auto* rec = std::get_if<wal::Records>(&r.message.body)) {
      size_t walked = 0;
      for (std::string_view frame : wal::RecordFrames(*rec)) walked += frame.size();
      if (walked != rec->frames.size()) Die("frames do not cover the message");
    }
    rest.remove_prefix(r.bytes);
  }
}

// The first byte picks a type (0 and 11 are unknown ones), the rest is the
// payload; the envelope around it is correct.
std::string Wrapped(std::string_view in) {
  const uint16_t type = uint16_t(uint8_t(in[0]) % 12);
  const uint16_t version = wal::kReplicationProtocolVersion;
  const uint64_t epoch = 1;
  std::string m(16, '\0');
  std::memcpy(m.data() + 4, &type, 2);
  std::memcpy(m.data() + 6, &version, 2);
  std::memcpy(m.data() + 8, &epoch, 8);
  m.append(in.substr(1));
  const uint64_t hash = XXH3_64bits(m.data() + 4, m.size() - 4);
  m.append(reinterpret_cast<const char*>(&hash), 8);
  const uint32_t length = uint32_t(m.size() - 4);
  std::memcpy(m.data(), &length, 4);
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  DecodeStream(in);
  if (!in.empty() && in.size() < wal::kMessageBytesMax - 64) DecodeStream(Wrapped(in));
  return 0;
}
