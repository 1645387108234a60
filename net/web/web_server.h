#pragma once
// The HTTP server on -w (Faktory's port 7420): the Web UI, /metrics,
// /health, /ready and /stats, on threads of its own (cpp-httplib's pool),
// never on a shard's (docs/operating-plan.md). Everything it shows comes
// through a WebBackend.
//
// Binding: "host:port"; ":0" (no host, port 0) disables it, as Faktory's
// `-w :0`; a host with port 0 takes a free port (tests).

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <absl/status/status.h>

#include "net/web/web_backend.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace werk::net::web {

struct WebOptions {
  std::string binding = "127.0.0.1:7420";
  // Basic authentication's password (any user name); empty: none.
  std::string password;
  // Threads serving requests (each holds one connection at a time).
  int threads = 4;
  // HTTPS with this key and certificate chain (PEM files; both or neither),
  // as the command port's TLS (net/tls_context.h): at least TLS 1.2.
  std::string tls_key_file;
  std::string tls_cert_file;
};

class WebServer {
 public:
  WebServer(WebOptions options, WebBackend* backend);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Whether the binding asks for no web server (":0").
  static bool Disabled(const std::string& binding);

  // Binds (an error names the binding and why) and starts serving.
  absl::Status Start();
  // The port bound (0 before Start, or disabled).
  int port() const { return port_; }
  // Stops accepting, finishes the requests under way, joins the threads.
  void Stop();

 private:
  void Route();
  // Basic auth on everything but the probes; true when the request may go on.
  bool Authorized(const httplib::Request& req, httplib::Response& res) const;

  WebOptions options_;
  WebBackend* backend_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> ended_{false};  // the serving loop returned
  int port_ = 0;
};

}  // namespace werk::net::web
