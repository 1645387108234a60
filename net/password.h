#pragma once
// Faktory's handshake password hash (reference §1.6): SHA-256 over
// password ++ salt, then `iterations - 1` more rounds over the raw 32-byte
// digest; lowercase hex.

#include <string>
#include <string_view>

namespace werk::net {

std::string PasswordHash(std::string_view password, std::string_view salt, int iterations);
// Constant-time comparison of two strings of possibly different lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace werk::net
