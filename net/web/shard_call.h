#pragma once
// A JobService operation run from a web server thread: posted to a shard,
// run there, and its result handed back once it is durable (a page never
// shows, and an action never confirms, what a crash could take back).
//
// The web thread waits for the answer, at most `kShardCallMillis`, and
// gives up early when the server stops; the shard never waits for the web
// thread. A result that does not come is an error the page shows (503).

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <absl/status/status.h>

#include "core/pending.h"
#include "net/web/web_backend.h"

namespace werk::net::web {

inline constexpr int64_t kShardCallMillis = 10'000;

// Runs `op(JobService&) -> core::Pending<T>` on shard `shard` and stores
// its value in `*out`. An error when no value came (not serving, stopping,
// no answer in time, the log failed); the value itself may be an error too.
template <class T, class Op>
absl::Status CallShard(WebBackend& backend, uint32_t shard, Op op, T* out) {
  struct Answer {
    absl::Status error;
    std::optional<T> value;
  };
  auto promise = std::make_shared<std::promise<Answer>>();
  std::future<Answer> answer = promise->get_future();
  const bool posted = backend.Post(
      shard, [promise, op = std::move(op)](core::JobService& service, core::ShardRuntime& rt) mutable {
        core::Pending<T> pending = op(service);
        if (!pending.ready()) {  // ran elsewhere: it comes back durable there
          pending.Then([promise](T value) {
            promise->set_value(Answer{absl::OkStatus(), std::move(value)});
          });
          return;
        }
        // Ran here: shown once what it logged here is on disk.
        auto value = std::make_shared<T>(std::move(pending.value()));
        rt.Defer(
            [promise, value, &rt] {
              if (rt.log_failed())
                promise->set_value(Answer{absl::UnavailableError("the write-ahead log failed"), {}});
              else
                promise->set_value(Answer{absl::OkStatus(), std::move(*value)});
            },
            rt.has_journal() ? rt.journal().appended_lsn() : core::Lsn(0));
      });
  if (!posted) return absl::UnavailableError("werk is not serving yet (recovering) or stopping");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kShardCallMillis);
  while (answer.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (backend.Phase().stopping) return absl::UnavailableError("werk is stopping");
    if (std::chrono::steady_clock::now() >= deadline)
      return absl::DeadlineExceededError("shard " + std::to_string(shard) +
                                         " did not answer in time");
  }
  try {
    Answer a = answer.get();
    if (!a.error.ok()) return a.error;
    *out = std::move(*a.value);
    return absl::OkStatus();
  } catch (const std::future_error&) {  // the shard stopped with the op unrun
    return absl::UnavailableError("werk is stopping");
  }
}

}  // namespace werk::net::web
