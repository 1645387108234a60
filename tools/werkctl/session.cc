#include "tools/werkctl/session.h"

#include <cstdio>
#include <utility>

#include "core/json_writer.h"

namespace werk::ctl {

int Fail(const std::string& address, const std::string& message) {
  std::fprintf(stderr, "werkctl: %s: %s\n", address.c_str(), message.c_str());
  return kExitFailure;
}

void PrintLine(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  if (text.empty() || text.back() != '\n') std::fputc('\n', stdout);
}

std::optional<Reply> Run(Session& s, const std::string& command,
                         std::initializer_list<Reply::Type> expected) {
  // Long commands (a MUTATE with many jids) are shown cut in messages.
  const std::string shown = command.size() > 120 ? command.substr(0, 120) + "..." : command;
  auto reply = s.client->Call(command);
  if (!reply.ok()) {
    Fail(s.address, shown + ": " + std::string(reply.status().message()));
    return std::nullopt;
  }
  if (reply->type == Reply::Type::kError) {
    Fail(s.address, "the server refused " + shown + ": " + reply->text);
    return std::nullopt;
  }
  for (const Reply::Type t : expected)
    if (reply->type == t) return std::move(*reply);
  Fail(s.address, "unexpected reply to " + shown + ": \"" + reply->text.substr(0, 200) + "\"");
  return std::nullopt;
}

std::string JsonString(const std::string& s) {
  std::string out;
  core::AppendJsonString(out, s);
  return out;
}

}  // namespace werk::ctl
