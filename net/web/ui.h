#pragma once
// The Web UI's pages, routed on the web server (net/web/web_server.h). A
// page reads the published snapshots, or asks the shards through
// net/web/shard_call.h; an action is a POST checked for CSRF, run through
// the job service, and answered with a redirect (Post/Redirect/Get).

namespace httplib {
class Server;
}  // namespace httplib

namespace werk::net::web {

class WebBackend;

void RouteAssets(httplib::Server& http);
void RouteDashboard(httplib::Server& http, WebBackend* backend);
void RouteQueues(httplib::Server& http, WebBackend* backend);
void RouteServerPages(httplib::Server& http, WebBackend* backend);  // cluster, storage, cron
void RouteSets(httplib::Server& http, WebBackend* backend);    // retries, scheduled, dead
void RouteJobs(httplib::Server& http, WebBackend* backend);    // a queue's jobs, a job
void RouteBusy(httplib::Server& http, WebBackend* backend);    // worker processes

}  // namespace werk::net::web
