#pragma once
// A group of werkctl subcommands in its own file (main.cc only wires them):
// Register adds them to the command line; Run runs the one parsed, if it
// is one of this group's.

#include <optional>

#include <CLI/CLI.hpp>

#include "tools/werkctl/session.h"

namespace werk::ctl {

class CommandGroup {
 public:
  virtual ~CommandGroup() = default;
  // `json`: the --json flag every subcommand shares.
  virtual void Register(CLI::App& app, bool* json) = 0;
  // True if the parsed subcommand needs no server (it reads files).
  virtual bool Offline() const { return false; }
  // The exit status, if the parsed subcommand is this group's.
  virtual std::optional<int> Run(Session& s) = 0;
};

}  // namespace werk::ctl
