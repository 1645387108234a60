#pragma once
// What the pages listing jobs share (the sets' pages, a queue's page): the
// query (cursor, filter, limit), the filter form, the pager, the args cell.

#include <optional>
#include <string>

#include <absl/status/status.h>

#include "core/job_listing.h"
#include "net/web/job_view.h"
#include "net/web/ui_page.h"

namespace httplib {
struct Request;
}  // namespace httplib

namespace werk::net::web {

struct ListQuery {
  core::ListRequest request;  // limit, after, filter (target left to the page)
  std::string cursor, pattern, jobtype;  // as given, for the links
  absl::Status error;                    // a bad cursor or limit
};

ListQuery ReadListQuery(const httplib::Request& req);
void AppendFilterForm(std::string& o, const PageContext& ctx, const char* path,
                      const ListQuery& q);
void AppendPager(std::string& o, const PageContext& ctx, const std::string& path,
                 const ListQuery& q, const std::optional<core::ListKey>& next);
// The arguments, each cut for display and escaped, comma-separated.
void AppendArgs(std::string& o, const JobView& j);

}  // namespace werk::net::web
