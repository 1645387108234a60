#pragma once
// Invariant checks (style P12).
//
// WERK_CHECK guards data integrity and stays on in every build: a failed check
// logs the condition and location, then aborts. WERK_DCHECK is for hot-path
// internals and compiles away in release builds (NDEBUG).

#include <cstdlib>

namespace werk::core {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line, const char* msg);
}  // namespace werk::core

#define WERK_CHECK(cond)                                                  \
  do {                                                                    \
    if (__builtin_expect(!(cond), 0))                                     \
      ::werk::core::CheckFailed(#cond, __FILE__, __LINE__, nullptr);      \
  } while (0)

#define WERK_CHECK_MSG(cond, msg)                                         \
  do {                                                                    \
    if (__builtin_expect(!(cond), 0))                                     \
      ::werk::core::CheckFailed(#cond, __FILE__, __LINE__, (msg));        \
  } while (0)

#ifdef NDEBUG
#define WERK_DCHECK(cond) \
  do {                    \
  } while (false && (cond))
#else
#define WERK_DCHECK(cond) WERK_CHECK(cond)
#endif

#define WERK_UNREACHABLE() ::werk::core::CheckFailed("unreachable", __FILE__, __LINE__, nullptr)
