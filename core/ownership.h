#pragma once
// Which shard owns a key (design §3 "Ownership"): a job belongs to shard
// hash(jid) % shards for its whole life, a worker process's entry and state
// to hash(wid) % shards. The hash is XXH3-64 of the key's bytes, so the
// mapping is the same in every process and across restarts.

#include <cstdint>
#include <string_view>

namespace werk::core {

uint32_t ShardOf(std::string_view key, uint32_t shards);

}  // namespace werk::core
