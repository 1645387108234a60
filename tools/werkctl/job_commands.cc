// werkctl jobs, job, retry, kill and delete: pages of a set or queue
// (WERK JOBS), one job (WERK JOB), and actions by jid. The actions are
// Faktory's MUTATE with a jids filter, one per set the jobs are in:
// werkctl first asks where each job is (WERK JOB), so it can say what it
// did to each; a job that moves between that question and the MUTATE is
// left alone (MUTATE acts only on the set it names).

#include <algorithm>
#include <cstdio>
#include <map>

#include <simdjson.h>

#include "tools/werkctl/groups.h"
#include "tools/werkctl/table.h"

namespace werk::ctl {

namespace {

namespace dom = simdjson::dom;

std::string Str(dom::element e, std::string_view pointer) {
  std::string_view v;
  if (e.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

std::string Int(dom::element e, std::string_view pointer) {
  int64_t v;
  if (e.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return std::to_string(v);
}

std::string Raw(dom::element e, std::string_view pointer) {
  dom::element v;
  if (e.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return simdjson::minify(v);
}

class JobGroup final : public CommandGroup {
 public:
  void Register(CLI::App& app, bool* json) override {
    jobs_ = app.add_subcommand(
        "jobs", "list a page of jobs: jobs retries|scheduled|dead, or jobs queue NAME");
    jobs_->add_option("target", target_, "retries, scheduled, dead or queue")
        ->required()
        ->check(CLI::IsMember({"retries", "scheduled", "dead", "queue"}));
    jobs_->add_option("queue", queue_, "the queue's name (with target queue)");
    jobs_->add_option("--filter", pattern_, "only jobs whose JSON matches this glob (*, ?, [..])");
    jobs_->add_option("--jobtype", jobtype_, "only jobs of this jobtype");
    jobs_->add_option("--limit", limit_, "jobs per page (default 25, at most 1000)")
        ->check(CLI::Range(1, 1000));
    jobs_->add_option("--cursor", cursor_, "where to continue: the cursor the last page printed");
    jobs_->add_flag("--json", *json, "print the server's page as is (JSON)");
    job_ = app.add_subcommand("job", "show one job: where it is, its failure, its JSON");
    job_->add_option("jid", jids_, "the job's jid")->required()->expected(1);
    job_->add_flag("--json", *json, "print the server's answer as is (JSON)");
    struct Spec {
      CLI::App** app;
      const char* name;
      const char* help;
    };
    for (const Spec& sp :
         {Spec{&retry_, "retry", "enqueue jobs of the retry, scheduled or dead set now"},
          Spec{&kill_, "kill", "move jobs of the retry or scheduled set to the dead set"},
          Spec{&delete_, "delete", "delete jobs of the retry, scheduled or dead set"}}) {
      *sp.app = app.add_subcommand(sp.name, sp.help);
      (*sp.app)->add_option("jid", jids_, "jids")->required();
      (*sp.app)->add_flag("--json", *json, "print {\"jid\":\"what was done\"} (JSON)");
    }
  }

  std::optional<int> Run(Session& s) override {
    if (jobs_->parsed()) return List(s);
    if (job_->parsed()) return Show(s);
    if (retry_->parsed()) return Act(s, "requeue", {"retries", "scheduled", "dead"}, "enqueued");
    if (kill_->parsed()) return Act(s, "kill", {"retries", "scheduled"}, "killed");
    if (delete_->parsed()) return Act(s, "discard", {"retries", "scheduled", "dead"}, "deleted");
    return std::nullopt;
  }

 private:
  int List(Session& s) {
    if (target_ == "queue" && queue_.empty())
      return Fail(s.address, "jobs queue needs the queue's name");
    std::string req = "{\"target\":" + JsonString(target_);
    if (target_ == "queue") req += ",\"queue\":" + JsonString(queue_);
    req += ",\"limit\":" + std::to_string(limit_);
    if (!cursor_.empty()) req += ",\"cursor\":" + JsonString(cursor_);
    if (!pattern_.empty() || !jobtype_.empty()) {
      // (No glob without --filter: a jobtype alone is a field compare.)
      req += ",\"filter\":{\"regexp\":" + JsonString(pattern_) +
             ",\"jobtype\":" + JsonString(jobtype_) + "}";
    }
    req += "}";
    const std::optional<Reply> reply = ctl::Run(s, "WERK JOBS " + req, {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    if (s.json) {
      PrintLine(reply->text);
      return 0;
    }
    dom::parser parser;
    dom::element page;
    dom::array jobs;
    if (parser.parse(reply->text).get(page) != simdjson::SUCCESS ||
        page["jobs"].get(jobs) != simdjson::SUCCESS)
      return Fail(s.address, "a page that is not JSON");
    const bool failed = target_ == "retries" || target_ == "dead";
    const char* when = target_ == "retries"     ? "RETRY AT"
                       : target_ == "scheduled" ? "RUN AT"
                       : target_ == "dead"      ? "DIED AT"
                                                : "ENQUEUED AT";
    Row header = {when, "JID", "JOBTYPE", "QUEUE", "ARGS"};
    if (failed) header = {when, "JID", "JOBTYPE", "QUEUE", "RETRIES", "ERROR"};
    std::vector<Row> rows;
    for (dom::element row : jobs) {
      dom::element job = row["job"];
      std::string at = Str(row, "/sort_at");
      // A job killed before it ever failed has no failure: no time to show.
      if (target_ == "dead") at = Str(job, "/failure/failed_at");
      Row r = {ShortTime(at), Str(job, "/jid"), Str(job, "/jobtype"), Str(job, "/queue")};
      if (failed) {
        r.push_back(Int(job, "/failure/retry_count"));
        const std::string type = Str(job, "/failure/errtype");
        r.push_back(type.empty() ? "" : Cut(type + ": " + Str(job, "/failure/message"), 60));
      } else {
        r.push_back(Cut(Raw(job, "/args"), 40));
      }
      rows.push_back(std::move(r));
    }
    std::fputs(FormatTable(header, rows).c_str(), stdout);
    const std::string size = Int(page, "/size");
    std::string foot = std::to_string(rows.size()) + " shown, " + size + " in " +
                       (target_ == "queue" ? "queue " + queue_ : target_);
    const std::string next = Str(page, "/cursor");
    if (!next.empty()) foot += "; next page: --cursor " + next;
    PrintLine(foot);
    return 0;
  }

  int Show(Session& s) {
    const std::optional<Reply> reply = ctl::Run(s, "WERK JOB " + jids_[0], {Reply::Type::kBulk});
    if (!reply) return kExitFailure;
    if (s.json) {
      PrintLine(reply->text);
      return 0;
    }
    dom::parser parser;
    dom::element found;
    if (parser.parse(reply->text).get(found) != simdjson::SUCCESS)
      return Fail(s.address, "an answer that is not JSON");
    std::string out = "jid:         " + Str(found, "/jid") + "\n";
    std::string where = Str(found, "/where");
    if (where == "queue") where += " " + Str(found, "/queue");
    if (where == "working") where += " (reserved by " + Str(found, "/wid") + " at " +
                                     ShortTime(Str(found, "/reserved_at")) + ")";
    out += "where:       " + where + "\n";
    out += "jobtype:     " + Str(found, "/job/jobtype") + "\n";
    out += "args:        " + Raw(found, "/job/args") + "\n";
    if (std::string run = Str(found, "/run_at"); !run.empty()) out += "runs at:     " + ShortTime(run) + "\n";
    dom::element failure;
    if (found["failure"].get(failure) == simdjson::SUCCESS) {
      out += "failed at:   " + ShortTime(Str(failure, "/failed_at")) + " (retry " +
             Int(failure, "/retry_count") + ")\n";
      out += "error:       " + Str(failure, "/errtype") + ": " + Str(failure, "/message") + "\n";
      dom::array bt;
      if (failure["backtrace"].get(bt) == simdjson::SUCCESS)
        for (dom::element line : bt) out += "  " + std::string(std::string_view(line)) + "\n";
    }
    out += "json:        " + Raw(found, "/job") + "\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }

  // Where each jid is, then one MUTATE `cmd` per set among `sets`.
  int Act(Session& s, const std::string& cmd, std::vector<std::string> sets,
          const std::string& done) {
    std::map<std::string, std::vector<std::string>> by_set;
    std::vector<std::pair<std::string, std::string>> outcome;  // jid, what happened
    for (const std::string& jid : jids_) {
      auto reply = s.client->Call("WERK JOB " + jid);
      if (!reply.ok()) return Fail(s.address, std::string(reply.status().message()));
      if (reply->type == Reply::Type::kError) {
        outcome.emplace_back(jid, "not found");
        continue;
      }
      dom::parser parser;
      dom::element found;
      std::string where;
      if (parser.parse(reply->text).get(found) == simdjson::SUCCESS) where = Str(found, "/where");
      if (std::find(sets.begin(), sets.end(), where) == sets.end()) {
        outcome.emplace_back(jid, "left alone: it is in " + (where.empty() ? "?" : where));
        continue;
      }
      by_set[where].push_back(jid);
      outcome.emplace_back(jid, done + " (from " + where + ")");
    }
    for (const auto& [set, jids] : by_set) {
      std::string list;
      for (const std::string& jid : jids) list += (list.empty() ? "" : ",") + JsonString(jid);
      const std::string mutate = "MUTATE {\"cmd\":\"" + cmd + "\",\"target\":\"" + set +
                                 "\",\"filter\":{\"jids\":[" + list + "]}}";
      if (!ctl::Run(s, mutate, {Reply::Type::kSimple})) return kExitFailure;
    }
    bool missing = false;
    std::string json = "{";
    for (const auto& [jid, what] : outcome) {
      if (!s.json) PrintLine(jid + ": " + what);
      if (json.size() > 1) json += ",";
      json += JsonString(jid) + ":" + JsonString(what);
      missing |= what == "not found";
    }
    if (s.json) PrintLine(json + "}");
    return missing ? kExitFailure : 0;
  }

  std::string target_, queue_, pattern_, jobtype_, cursor_;
  int limit_ = 25;
  std::vector<std::string> jids_;
  CLI::App* jobs_ = nullptr;
  CLI::App* job_ = nullptr;
  CLI::App* retry_ = nullptr;
  CLI::App* kill_ = nullptr;
  CLI::App* delete_ = nullptr;
};

}  // namespace

std::unique_ptr<CommandGroup> JobCommands() { return std::make_unique<JobGroup>(); }

}  // namespace werk::ctl
