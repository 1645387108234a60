#pragma once
// Replies in the subset of RESP2 that Faktory speaks (reference §1.3).

#include <string>
#include <string_view>

namespace werk::net {

inline void AppendOk(std::string& out) { out.append("+OK\r\n"); }
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

}  // namespace werk::net
