#include "net/enterprise_fields.h"

#include <spdlog/spdlog.h>

#include <atomic>

namespace werk::net {

namespace {
std::atomic<EnterpriseFieldSet> g_warned{0};  // the fields already logged
}  // namespace

void WarnEnterpriseFieldsOnce(EnterpriseFieldSet fields) {
  if ((g_warned.load(std::memory_order_relaxed) & fields) == fields) return;
  const EnterpriseFieldSet fresh = fields & ~g_warned.fetch_or(fields, std::memory_order_relaxed);
  for (size_t i = 0; i < kEnterpriseFieldCount; ++i) {
    if ((fresh >> i) & 1u) {
      spdlog::warn(
          "job field {} is a Faktory Enterprise feature werk does not implement yet: the job is "
          "treated as an ordinary job",
          kEnterpriseFieldNames[i]);
    }
  }
}

}  // namespace werk::net
