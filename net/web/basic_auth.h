#pragma once
// HTTP Basic authentication as Faktory's Web UI does it: any user name, the
// password checked. The header is attacker-controlled input; it is decoded
// without trusting its length or its alphabet.

#include <optional>
#include <string>
#include <string_view>

namespace werk::net::web {

// The password of an `Authorization: Basic <base64(user:password)>` header
// value, or nullopt if it is not one (another scheme, bad base64, no ':').
std::optional<std::string> BasicPassword(std::string_view header);

// Whether `header` carries `password` (compared in constant time). With an
// empty `password` every request is accepted.
bool BasicAuthAccepts(std::string_view header, std::string_view password);

}  // namespace werk::net::web
