#include "core/check.h"

#include <spdlog/spdlog.h>

namespace werk::core {

void CheckFailed(const char* expr, const char* file, int line, const char* msg) {
  spdlog::critical("check failed: {} at {}:{}{}{}", expr, file, line, msg ? ": " : "",
                   msg ? msg : "");
  spdlog::shutdown();
  std::abort();
}

}  // namespace werk::core
