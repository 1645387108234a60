// The data directory's MANIFEST as read at start: anything is refused or
// decoded, and what decodes has exactly the bytes it was read from.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "net/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = werk::net::DecodeManifest(input);
  if (m.ok() && werk::net::EncodeManifest(*m) != input) {
    std::fprintf(stderr, "decode/encode is not the identity\n");
    std::abort();
  }
  return 0;
}
