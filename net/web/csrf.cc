#include "net/web/csrf.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <string_view>

namespace werk::net::web {
namespace {

constexpr std::string_view kCookie = "werk_csrf";
constexpr size_t kTokenBytes = 16;

// The werk_csrf value of a Cookie header, if well-formed (32 hex digits).
std::string CookieToken(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > kCookie.size() && pair.substr(0, kCookie.size()) == kCookie &&
        pair[kCookie.size()] == '=') {
      std::string_view value = pair.substr(kCookie.size() + 1);
      if (value.size() != 2 * kTokenBytes) return {};
      for (const char c : value)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
      return std::string(value);
    }
    pos = end + 1;
  }
  return {};
}

std::string NewToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace

std::string CsrfToken(const httplib::Request& req, httplib::Response& res) {
  std::string token = CookieToken(req.get_header_value("Cookie"));
  if (!token.empty()) return token;
  token = NewToken();
  res.set_header("Set-Cookie", std::string(kCookie) + "=" + token +
                                   "; Path=/; HttpOnly; SameSite=Strict");
  return token;
}

bool CsrfAccepts(const httplib::Request& req, std::string* why) {
  const std::string cookie = CookieToken(req.get_header_value("Cookie"));
  const std::string form = req.get_param_value(kCsrfField);
  if (cookie.empty() || form.size() != cookie.size() ||
      CRYPTO_memcmp(cookie.data(), form.data(), cookie.size()) != 0) {
    *why = "the form's token does not match this browser's (reload the page and try again)";
    return false;
  }
  const std::string host = req.get_header_value("Host");
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
    *why = "cross-origin request refused";
    return false;
  }
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (!site.empty() && site != "same-origin" && site != "none") {
    *why = "cross-site request refused";
    return false;
  }
  return true;
}

}  // namespace werk::net::web
