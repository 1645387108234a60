#pragma once
// Cross-site request forgery: every action is a POST that must carry, in
// its form, the token of the browser's `werk_csrf` cookie (random, HttpOnly,
// SameSite=Strict), and must come from this origin when the browser says
// where it comes from (Origin, Sec-Fetch-Site). A page of another site can
// neither read the cookie nor make the browser send it.

#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace werk::net::web {

inline constexpr const char* kCsrfField = "csrf";

// The request's token: its cookie's, or a new one set on `res`.
std::string CsrfToken(const httplib::Request& req, httplib::Response& res);

// Whether a POST may act: the form's token is the cookie's and the origin
// is this server's. `why` says what failed.
bool CsrfAccepts(const httplib::Request& req, std::string* why);

}  // namespace werk::net::web
