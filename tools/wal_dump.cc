// werk-wal-dump: read-only inspection of a shard's write-ahead log, for
// incidents (tools/wal_inspect.h). `werkctl wal dump|verify` does the same;
// this binary stays for the scripts and runbooks that name it.
//
//   werk-wal-dump werk-data                 (every shard under data/wal)
//   werk-wal-dump werk-data/wal/shard-000 --records
//   werk-wal-dump werk-data/wal/shard-001 --lsn 42
//   werk-wal-dump werk-data --cut-after 41234   (what a rejoin's cut would drop)
//
// Exit status: 0 all verified, 1 corruption found, 2 usage or I/O error; with
// --cut-after, 0 if every cut would proceed, 1 if one would be refused.

#include <string>

#include <CLI/CLI.hpp>

#include "tools/wal_inspect.h"

int main(int argc, char** argv) {
  std::string path;
  werk::tools::WalInspectOptions opts;
  CLI::App app{"werk-wal-dump: list and verify a werk write-ahead log (read-only)"};
  app.add_option("path", path, "a data directory, or one shard's log directory")->required();
  app.add_flag("--records", opts.records, "print every record");
  app.add_option("--lsn", opts.lsn, "print the record with this LSN");
  app.add_option("--cut-after", opts.cut_after,
                 "print what cutting each log after this LSN would drop, as a rejoin's "
                 "wal::TruncateAfter would (a dry run: nothing is written)");
  CLI11_PARSE(app, argc, argv);
  return werk::tools::InspectWal(path, opts, "werk-wal-dump");
}
