// werkctl workers, quiet and terminate: WERK WORKERS and WERK WORKER (what
// Faktory's Web UI "Quiet" and "Stop" buttons do).

#include <cstdio>

#include <simdjson.h>

#include "tools/werkctl/groups.h"
#include "tools/werkctl/table.h"

namespace werk::ctl {

namespace {

namespace dom = simdjson::dom;

std::string Field(dom::element e, std::string_view key) {
  dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) return "";
  if (v.is_string()) return std::string(std::string_view(v));
  return simdjson::minify(v);
}

class WorkerGroup final : public CommandGroup {
 public:
  void Register(CLI::App& app, bool* json) override {
    workers_ = app.add_subcommand(
        "workers", "list the worker processes: host, pid, state, last beat, jobs held");
    workers_->add_flag("--json", *json, "print the server's answer as is (JSON)");
    quiet_ = app.add_subcommand(
        "quiet", "tell a worker process (or all) to fetch no more jobs (its next BEAT says so)");
    terminate_ = app.add_subcommand(
        "terminate", "tell a worker process (or all) to stop (its next BEAT says so)");
    for (CLI::App* a : {quiet_, terminate_}) {
      a->add_option("wid", wid_, "the process's wid, or all")->required();
      a->add_flag("--json", *json, "print the server's answer as is (JSON)");
    }
  }

  std::optional<int> Run(Session& s) override {
    if (workers_->parsed()) return List(s);
    if (quiet_->parsed()) return Move(s, "quiet");
    if (terminate_->parsed()) return Move(s, "terminate");
    return std::nullopt;
  }

 private:
  int Move(Session& s, const std::string& state) {
    const std::string cmd =
        "WERK WORKER {\"wid\":" + JsonString(wid_) + ",\"state\":\"" + state + "\"}";
    const std::optional<Reply> reply = ctl::Run(s, cmd, {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    if (s.json) {
      PrintLine(reply->text);
      return 0;
    }
    dom::parser parser;
    int64_t moved = 0;
    if (parser.parse(reply->text)["moved"].get(moved) != simdjson::SUCCESS)
      return Fail(s.address, "an answer that is not JSON: " + reply->text);
    PrintLine(state + ": " + std::to_string(moved) + (moved == 1 ? " process" : " processes") +
              " moved" + (moved == 0 ? " (already there, or further)" : ""));
    return 0;
  }

  int List(Session& s) {
    const std::optional<Reply> reply = ctl::Run(s, "WERK WORKERS", {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    if (s.json) {
      PrintLine(reply->text);
      return 0;
    }
    dom::parser parser;
    dom::array workers;
    if (parser.parse(reply->text)["workers"].get(workers) != simdjson::SUCCESS)
      return Fail(s.address, "an answer that is not JSON");
    std::vector<Row> rows, held;
    for (dom::element w : workers) {
      rows.push_back({Field(w, "wid"), Field(w, "hostname"), Field(w, "pid"), Field(w, "state"),
                      Field(w, "connections"), ShortTime(Field(w, "last_beat_at")),
                      ShortTime(Field(w, "started_at")), Field(w, "reserved_count"),
                      Field(w, "labels")});
      dom::array reserved;
      if (w["reserved"].get(reserved) != simdjson::SUCCESS) continue;
      for (dom::element j : reserved)
        held.push_back({Field(w, "wid"), Field(j, "jid"), Field(j, "queue"), Field(j, "jobtype"),
                        ShortTime(Field(j, "reserved_at"))});
    }
    std::fputs(FormatTable({"WID", "HOSTNAME", "PID", "STATE", "CONNS", "LAST BEAT", "STARTED",
                            "BUSY", "LABELS"},
                           rows)
                   .c_str(),
               stdout);
    if (!held.empty()) {
      std::fputs("\n", stdout);
      std::fputs(FormatTable({"WID", "JID", "QUEUE", "JOBTYPE", "RESERVED AT"}, held).c_str(),
                 stdout);
    }
    return 0;
  }

  std::string wid_;
  CLI::App* workers_ = nullptr;
  CLI::App* quiet_ = nullptr;
  CLI::App* terminate_ = nullptr;
};

}  // namespace

std::unique_ptr<CommandGroup> WorkerCommands() { return std::make_unique<WorkerGroup>(); }

}  // namespace werk::ctl
