#include "tools/werkctl/server_url.h"

#include <cstdlib>

#include <absl/status/status.h>

#include "net/config.h"

namespace werk::ctl {

namespace {

constexpr std::string_view kScheme = "tcp://";
constexpr std::string_view kTlsScheme = "tcp+tls://";

absl::Status Invalid(const std::string& what) { return absl::InvalidArgumentError(what); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes; a malformed one is an error rather than kept as is, because a
// password that silently differs from the one meant fails later as "wrong
// password", which is harder to understand.
absl::StatusOr<std::string> PercentDecode(std::string_view s, const char* what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return Invalid(std::string("bad %-escape in the ") + what + " (expected %XX, two hex digits)");
    out.push_back(char(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::Status ParsePort(std::string_view text, uint16_t* port) {
  const absl::Status bad = Invalid("bad port \"" + std::string(text) + "\" (expected 1 to 65535)");
  if (text.size() > 5) return bad;
  uint32_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return bad;
    v = v * 10 + uint32_t(c - '0');
  }
  if (v == 0 || v > 65535) return bad;
  *port = uint16_t(v);
  return absl::OkStatus();
}

// "host", "host:port", ":port", "[v6]", "[v6]:port", or "".
absl::Status ParseHostPort(std::string_view s, ServerUrl* out) {
  std::string_view host = s, port;
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return Invalid("'[' without ']' around an IPv6 address");
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest[0] != ':')
      return Invalid("unexpected \"" + std::string(rest) + "\" after the IPv6 address");
    if (!rest.empty()) {
      port = rest.substr(1);
      if (port.empty()) return Invalid("empty port after ':'");
    }
    if (host.empty()) return Invalid("empty IPv6 address in brackets");
  } else if (const size_t colon = s.find(':'); colon != std::string_view::npos) {
    if (s.find(':', colon + 1) != std::string_view::npos)
      return Invalid("more than one ':' in host:port (an IPv6 address goes in brackets: [::1]:7419)");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) return Invalid("empty port after ':'");
  }
  for (const char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '[' || c == ']' || c == '%')
      return Invalid("bad character in the host name");
  }
  if (!host.empty()) out->host = std::string(host);
  if (!port.empty()) return ParsePort(port, &out->port);
  return absl::OkStatus();
}

}  // namespace

std::string ServerUrl::Address() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view url) {
  const bool tls = url.substr(0, kTlsScheme.size()) == kTlsScheme;
  if (!tls && url.substr(0, kScheme.size()) != kScheme)
    return Invalid("expected tcp://[:password@]host[:port] or tcp+tls://…");
  std::string_view rest = url.substr(tls ? kTlsScheme.size() : kScheme.size());
  // One trailing '/' is what URL libraries add; anything more is a typo or
  // a different kind of URL, and guessing would connect somewhere unmeant.
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  // As Go's url.Parse: the userinfo ends at the last '@'.
  ServerUrl out;
  out.tls = tls;
  const size_t at = rest.rfind('@');
  std::string_view authority = at == std::string_view::npos ? rest : rest.substr(at + 1);
  if (const size_t bad = authority.find_first_of("/?#"); bad != std::string_view::npos)
    return Invalid("unexpected \"" + std::string(authority.substr(bad)) +
                   "\" after host:port (expected tcp://[:password@]host[:port])");
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon), "user name");
    if (!user.ok()) return user.status();
    out.username = std::move(*user);
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1), "password");
      if (!password.ok()) return password.status();
      out.password = std::move(*password);
    }
  }
  if (absl::Status st = ParseHostPort(authority, &out); !st.ok()) return st;
  return out;
}

std::string RedactUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "xxxxx" + std::string(url.substr(at));
}

std::optional<std::string> GetEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

absl::StatusOr<ResolvedServer> ResolveServer(std::string_view flag_url, const EnvLookup& env) {
  auto get = [&](const std::string& name) -> std::string {
    std::optional<std::string> v = env(name);
    return v ? *v : std::string();
  };
  ResolvedServer r;
  std::string text;
  if (!flag_url.empty()) {
    r.source = "--url";
    text = std::string(flag_url);
  } else {
    // As the Go and Rust clients: FAKTORY_PROVIDER names the variable that
    // holds the URL, FAKTORY_URL by default.
    std::string variable = "FAKTORY_URL";
    if (const std::string provider = get("FAKTORY_PROVIDER"); !provider.empty()) {
      if (provider.find(':') != std::string::npos)
        return Invalid("FAKTORY_PROVIDER must be the name of the variable holding the URL "
                       "(e.g. FAKTORY_PROVIDER=MY_FAKTORY_URL), not the URL itself");
      variable = provider;
    }
    text = get(variable);
    r.source = variable == "FAKTORY_URL" ? variable : variable + " (named by FAKTORY_PROVIDER)";
  }
  if (text.empty()) {
    r.source = "the default";
  } else {
    auto parsed = ParseServerUrl(text);
    if (!parsed.ok())
      return Invalid("bad URL in " + r.source + " \"" + RedactUrl(text) +
                     "\": " + std::string(parsed.status().message()));
    r.url = std::move(*parsed);
  }
  if (r.url.password.empty()) {
    auto password = net::ResolvePassword(get("FAKTORY_PASSWORD"));
    if (!password.ok())
      return Invalid("FAKTORY_PASSWORD: " + std::string(password.status().message()));
    r.url.password = std::move(*password);
  }
  return r;
}

}  // namespace werk::ctl
