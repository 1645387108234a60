#pragma once
// Splits a byte stream from the server into whole RESP replies.

#include <optional>
#include <string>

namespace werk::testing {

// Removes one complete reply from the front of `buf` and returns it whole
// (e.g. "+OK\r\n" or "$3\r\nabc\r\n"); nullopt if `buf` holds no full reply.
inline std::optional<std::string> TakeReply(std::string& buf) {
  const size_t eol = buf.find("\r\n");
  if (eol == std::string::npos) return std::nullopt;
  size_t total = eol + 2;
  if (buf[0] == '$' && buf.compare(0, 3, "$-1") != 0) {
    const long n = std::stol(buf.substr(1, eol - 1));
    total = eol + 2 + size_t(n) + 2;
    if (buf.size() < total) return std::nullopt;
  }
  std::string reply = buf.substr(0, total);
  buf.erase(0, total);
  return reply;
}

// The payload of a bulk reply ("$3\r\nabc\r\n" -> "abc"); other replies unchanged.
inline std::string BulkBody(const std::string& reply) {
  if (reply.empty() || reply[0] != '$' || reply.compare(0, 3, "$-1") == 0) return reply;
  const size_t eol = reply.find("\r\n");
  return reply.substr(eol + 2, reply.size() - eol - 4);
}

}  // namespace werk::testing
