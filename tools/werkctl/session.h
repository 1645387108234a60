#pragma once
// What every werkctl subcommand shares: the connection, the address it
// names in messages, --json, and the helpers that send one command and
// report a refusal the same way everywhere.
//
// Exit status (main.cc): 0 done; 1 the server could not be reached,
// refused the password, or answered with an error (one line on stderr
// naming the address); 2 usage errors.

#include <initializer_list>
#include <optional>
#include <string>

#include "tools/werkctl/faktory_client.h"

namespace werk::ctl {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Session {
  FaktoryClient* client = nullptr;
  std::string address;
  bool json = false;
};

// Prints "werkctl: ADDRESS: MESSAGE" on stderr; returns kExitFailure.
int Fail(const std::string& address, const std::string& message);
// Prints `text` and a newline unless it ends in one.
void PrintLine(const std::string& text);
// Sends `command` and returns its reply if it is one of `expected`; else
// reports the server's error (or the unexpected reply) and returns nullopt.
std::optional<Reply> Run(Session& s, const std::string& command,
                         std::initializer_list<Reply::Type> expected);
// A JSON string literal of `s` (for the commands werkctl builds).
std::string JsonString(const std::string& s);

}  // namespace werk::ctl
