#pragma once
// Replies in the subset of RESP2 that Faktory speaks (reference §1.3).

#include <string>
#include <string_view>

#include <absl/status/status.h>

namespace werk::net {

inline constexpr std::string_view kOkReply = "+OK\r\n";

inline void AppendOk(std::string& out) { out.append(kOkReply); }
inline void AppendNull(std::string& out) { out.append("$-1\r\n"); }

inline void AppendBulk(std::string& out, std::string_view data) {
  out.push_back('$');
  out.append(std::to_string(data.size()));
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

// `-ERR message`, or `-CODE message` when `code` is given. CR and LF inside
// the message would end the reply early, so they are replaced.
inline void AppendError(std::string& out, std::string_view message,
                        std::string_view code = "ERR") {
  out.push_back('-');
  out.append(code);
  out.push_back(' ');
  for (char c : message) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("\r\n");
}

// An operation's status (core/op_status.h) as its reply: +OK, or -ERR and
// the status's message.
inline void AppendStatus(std::string& out, const absl::Status& status) {
  if (status.ok()) return AppendOk(out);
  const auto message = status.message();
  AppendError(out, std::string_view(message.data(), message.size()));
}

inline std::string StatusReply(const absl::Status& status) {
  std::string out;
  AppendStatus(out, status);
  return out;
}

}  // namespace werk::net
