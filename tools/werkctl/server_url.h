#pragma once
// Where werkctl finds the server, the way Faktory clients do (reference §7.3):
// a URL `tcp://[user][:password@][host][:port]` taken from --url, else from
// the variable FAKTORY_PROVIDER names, else from FAKTORY_URL, else
// `tcp://localhost:7419`; the password from FAKTORY_PASSWORD when the URL has
// none. Pure apart from reading a password file, so every rule is unit-tested.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace werk::ctl {

inline constexpr char kDefaultHost[] = "localhost";
inline constexpr uint16_t kDefaultPort = 7419;

struct ServerUrl {
  std::string host = kDefaultHost;  // a name or an address; IPv6 without brackets
  uint16_t port = kDefaultPort;
  std::string username;  // sent in HELLO for proxies that route on it; Faktory ignores it
  std::string password;  // empty: none
  // tcp+tls://: TLS (at least 1.2), the server's certificate checked against
  // the system's trusted CAs (SSL_CERT_FILE / SSL_CERT_DIR name others) and
  // the host name, as Faktory's Go and Ruby clients do.
  bool tls = false;

  // "host:port" ("[v6]:port"), for messages: never shows the password.
  std::string Address() const;
};

// Parses a Faktory URL. Userinfo is percent-decoded (as the Ruby and Node
// clients do, so a password may hold '@', ':' or '/' as %40, %3A, %2F); the
// host and port may each be left out. Anything else after the port but a
// lone "/" is refused. `tcp+tls://` is the same with TLS.
// Errors are kInvalidArgument saying what is wrong, without the password.
absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view url);

// `url` with its password replaced by "xxxxx", for quoting a URL in a message.
std::string RedactUrl(std::string_view url);

// Reads one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment.
std::optional<std::string> GetEnv(const std::string& name);

struct ResolvedServer {
  ServerUrl url;
  std::string source;  // where the URL came from: "--url", "FAKTORY_URL", … or "the default"
};

// Applies the rules above. `flag_url` is --url (empty: not given). An empty
// variable counts as unset. A FAKTORY_PROVIDER holding a ':' is refused (it
// names a variable; it does not hold the URL), as the Go client does. A
// FAKTORY_PASSWORD starting with '/' names a file holding the password, as
// for the server. Errors are kInvalidArgument: the operator's setup is wrong.
absl::StatusOr<ResolvedServer> ResolveServer(std::string_view flag_url, const EnvLookup& env);

}  // namespace werk::ctl
