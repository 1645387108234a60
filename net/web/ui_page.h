#pragma once
// What every Web UI page shares: the request's context (the reverse
// proxy's prefix, the CSRF token, the shards' snapshots), the layout (tabs,
// the summary bar, the footer) and the answers to an action.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "net/info.h"
#include "net/web/web_backend.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace werk::net::web {

// The figures of the summary bar, summed over the shards.
struct Totals {
  uint64_t processed = 0, failed = 0, busy = 0, enqueued = 0, retries = 0, scheduled = 0,
           dead = 0, connections = 0, commands = 0, workers = 0, pushed = 0;
};
Totals SumShards(const std::vector<ShardSummary>& shards);

struct PageContext {
  std::string prefix;  // X-Script-Name: where a reverse proxy mounts the UI
  std::string csrf;
  std::vector<ShardSummary> shards;
  Totals totals;
  core::UnixNanos now = 0;
};

PageContext BeginPage(const httplib::Request& req, httplib::Response& res, WebBackend& backend);

// The whole page around `body` (already escaped HTML), as the response.
void SendPage(httplib::Response& res, const PageContext& ctx, std::string_view title,
              std::string_view tab, const std::string& body);

// A form's hidden CSRF field.
std::string CsrfInput(const PageContext& ctx);
// The prefix-relative link to `path` (which starts with '/'), escaped for an attribute.
std::string Href(const PageContext& ctx, std::string_view path);

// After an action: 303 to `path` (Post/Redirect/Get).
void RedirectAfterAction(httplib::Response& res, const httplib::Request& req,
                         std::string_view path);
// An action refused or failed: a page saying why, with `status`.
void SendActionError(httplib::Response& res, const PageContext& ctx, int status,
                     std::string_view what);

}  // namespace werk::net::web
