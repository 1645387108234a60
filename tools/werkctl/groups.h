#pragma once
// werkctl's subcommand groups, one file each.

#include <memory>

#include "tools/werkctl/command_group.h"

namespace werk::ctl {

// info, cron, promote (server_commands.cc).
std::unique_ptr<CommandGroup> ServerCommands();
// queues, pause, resume, clear (queue_commands.cc).
std::unique_ptr<CommandGroup> QueueCommands();
// jobs, job, retry, kill, delete (job_commands.cc).
std::unique_ptr<CommandGroup> JobCommands();
// workers, quiet, terminate (worker_commands.cc).
std::unique_ptr<CommandGroup> WorkerCommands();
// wal dump, wal verify (wal_commands.cc).
std::unique_ptr<CommandGroup> WalCommands();

}  // namespace werk::ctl
