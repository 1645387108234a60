#include "core/ownership.h"

#include <xxhash.h>

namespace werk::core {

uint32_t ShardOf(std::string_view key, uint32_t shards) {
  if (shards <= 1) return 0;
  return uint32_t(XXH3_64bits(key.data(), key.size()) % shards);
}

}  // namespace werk::core
