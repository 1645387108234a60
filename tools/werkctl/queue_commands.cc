// werkctl queues, pause, resume and clear: INFO's queue sizes with QUEUE
// LATENCY, and Faktory's QUEUE PAUSE / RESUME / REMOVE.

#include <cstdio>
#include <map>

#include <simdjson.h>

#include "tools/werkctl/groups.h"
#include "tools/werkctl/table.h"

namespace werk::ctl {

namespace {

namespace dom = simdjson::dom;

class QueueGroup final : public CommandGroup {
 public:
  void Register(CLI::App& app, bool* json) override {
    queues_ = app.add_subcommand("queues", "list the queues: size and latency (oldest job's age)");
    queues_->add_flag("--json", *json, "print {\"queue\":{\"size\":…,\"latency\":…}} (JSON)");
    struct Spec {
      CLI::App** app;
      const char* name;
      const char* help;
    };
    for (const Spec& sp : {Spec{&pause_, "pause", "pause a queue: FETCH skips it (QUEUE PAUSE)"},
                           Spec{&resume_, "resume", "resume a paused queue (QUEUE RESUME)"},
                           Spec{&clear_, "clear",
                                "delete a queue and every job in it (QUEUE REMOVE)"}}) {
      *sp.app = app.add_subcommand(sp.name, sp.help);
      (*sp.app)->add_option("queue", names_, "queue names, or * for every queue")->required();
    }
  }

  std::optional<int> Run(Session& s) override {
    if (queues_->parsed()) return List(s);
    if (pause_->parsed()) return Queue(s, "PAUSE");
    if (resume_->parsed()) return Queue(s, "RESUME");
    if (clear_->parsed()) return Queue(s, "REMOVE");
    return std::nullopt;
  }

 private:
  int Queue(Session& s, const std::string& sub) {
    std::string cmd = "QUEUE " + sub;
    for (const std::string& n : names_) cmd += " " + n;
    if (!ctl::Run(s, cmd, {Reply::Type::kSimple})) return kExitFailure;
    if (!s.json) PrintLine("OK");
    else PrintLine("{\"ok\":true}");
    return 0;
  }

  int List(Session& s) {
    const std::optional<Reply> info = ctl::Run(s, "INFO", {Reply::Type::kBulk});
    if (!info) return kExitFailure;
    dom::parser parser;
    dom::object queues;
    if (parser.parse(info->text).at_pointer("/faktory/queues").get(queues) != simdjson::SUCCESS)
      return Fail(s.address, "INFO has no faktory.queues object");
    std::map<std::string, int64_t> sizes;
    for (dom::key_value_pair q : queues) {
      int64_t n = 0;
      if (q.value.get(n) == simdjson::SUCCESS) sizes[std::string(q.key)] = n;
    }
    std::map<std::string, double> latency;
    if (!sizes.empty()) {
      std::string cmd = "QUEUE LATENCY";
      for (const auto& [name, n] : sizes) cmd += " " + name;
      const std::optional<Reply> lat = ctl::Run(s, cmd, {Reply::Type::kBulk});
      if (!lat) return kExitFailure;
      dom::parser p2;
      dom::object o;
      if (p2.parse(lat->text).get(o) == simdjson::SUCCESS)
        for (dom::key_value_pair q : o) {
          double d = 0;
          if (q.value.get(d) == simdjson::SUCCESS) latency[std::string(q.key)] = d;
        }
    }
    if (s.json) {
      std::string out = "{";
      for (const auto& [name, n] : sizes) {
        if (out.size() > 1) out += ",";
        char lat[32];
        std::snprintf(lat, sizeof lat, "%.3f", latency[name]);
        out += JsonString(name) + ":{\"size\":" + std::to_string(n) + ",\"latency\":" + lat + "}";
      }
      PrintLine(out + "}");
      return 0;
    }
    std::vector<Row> rows;
    for (const auto& [name, n] : sizes) {
      char lat[32];
      std::snprintf(lat, sizeof lat, "%.1fs", latency[name]);
      rows.push_back({name, std::to_string(n), lat});
    }
    std::fputs(FormatTable({"QUEUE", "SIZE", "LATENCY"}, rows).c_str(), stdout);
    return 0;
  }

  std::vector<std::string> names_;
  CLI::App* queues_ = nullptr;
  CLI::App* pause_ = nullptr;
  CLI::App* resume_ = nullptr;
  CLI::App* clear_ = nullptr;
};

}  // namespace

std::unique_ptr<CommandGroup> QueueCommands() { return std::make_unique<QueueGroup>(); }

}  // namespace werk::ctl
