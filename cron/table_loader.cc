// LoadTable: the [[cron]] entries of the conf.d document (entry.h). Every
// key is checked; the first problem stops the load with a message naming
// the file and line, the entry, the field and why.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/job_validation.h"
#include "core/limits.h"
#include "core/time_format.h"
#include "cron/entry.h"
#include "cron/entry_identity.h"
#include "cron/toml_json.h"

namespace werk::cron {

namespace {

constexpr std::string_view kEntryKeys[] = {"schedule", "job",      "timezone",
                                           "name",     "catch_up", "grace"};
constexpr std::string_view kJobKeys[] = {"type",        "queue",    "args",  "retry",
                                         "reserve_for", "priority", "custom"};

// A job's instant for validation at load: its created_at is as long as any
// the tick will write (a nanosecond fraction without trailing zeros).
constexpr core::UnixNanos kValidationNow = 4102444800'123456789;  // 2100-01-01T00:00:00.123456789Z
// A tick with as many digits as any before 2286, so the placeholder jid is
// as long as real ones when the job's size is checked.
constexpr int64_t kValidationTickS = 9'999'999'999;

// Reads one [[cron]] table.
class EntryReader {
 public:
  EntryReader(const toml::table& t, int index, const SourceNamer& where)
      : t_(t), index_(index), where_(where) {
    label_ = "entry " + std::to_string(index_);
    if (const auto name = t_["name"].value<std::string>(); name && !name->empty()) {
      label_ = *name;
    } else if (const auto schedule = t_["schedule"].value<std::string>()) {
      label_ += " (" + *schedule + ")";
    }
  }

  absl::StatusOr<Entry> Read(const core::JobLimits& limits, std::vector<std::string>* warnings);

  const std::string& label() const { return label_; }
  std::string Origin() const { return where_(t_.source()); }

  // "<file>:<line>: [[cron]] <label>: <field>: <why>", at the line of
  // `node` (or of the entry when the field is missing).
  absl::Status Error(const toml::node* node, std::string_view field, std::string_view why) const {
    std::string text = where_(node ? node->source() : t_.source()) + ": [[cron]] " + label_ + ": ";
    if (!field.empty()) text.append(field).append(": ");
    text.append(why);
    return absl::InvalidArgumentError(text);
  }

 private:
  absl::Status CheckKeys(const toml::table& t, std::span<const std::string_view> known,
                         std::string_view prefix) const {
    for (const auto& [key, value] : t) {
      bool found = false;
      for (std::string_view k : known) found = found || k == key.str();
      if (found) continue;
      std::string names;
      for (std::string_view k : known) names.append(names.empty() ? "" : ", ").append(k);
      return Error(&value, std::string(prefix) + std::string(key.str()),
                   "unknown key (known: " + names + ")");
    }
    return absl::OkStatus();
  }
  // A string value, or an error; nullopt when absent.
  absl::StatusOr<std::optional<std::string>> String(const toml::table& t, std::string_view key,
                                                    std::string_view field) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<std::string>();
    if (!n->is_string()) return Error(n, field, "must be a string");
    return std::optional<std::string>(n->as_string()->get());
  }
  absl::StatusOr<std::optional<int64_t>> Integer(const toml::table& t, std::string_view key,
                                                 std::string_view field) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<int64_t>();
    if (!n->is_integer()) return Error(n, field, "must be an integer");
    return std::optional<int64_t>(n->as_integer()->get());
  }
  absl::StatusOr<Schedule> ReadSchedule() const;
  absl::Status ReadJob(const toml::table& job, Entry* e, std::vector<std::string>* warnings) const;

  const toml::table& t_;
  int index_;
  const SourceNamer& where_;
  std::string label_;
};

absl::StatusOr<Schedule> EntryReader::ReadSchedule() const {
  absl::StatusOr<std::optional<std::string>> expr = String(t_, "schedule", "schedule");
  if (!expr.ok()) return expr.status();
  if (!*expr)
    return Error(nullptr, "schedule", "missing (a cron expression such as \"0 12 * * *\")");
  absl::StatusOr<std::optional<std::string>> zone = String(t_, "timezone", "timezone");
  if (!zone.ok()) return zone.status();
  // The expression alone first, so that an error names the right field.
  absl::StatusOr<Schedule> s = Schedule::Parse(**expr, "UTC");
  if (!s.ok()) return Error(t_.get("schedule"), "schedule", std::string(s.status().message()));
  if (!*zone) return s;
  s = Schedule::Parse(**expr, **zone);
  if (!s.ok()) return Error(t_.get("timezone"), "timezone", std::string(s.status().message()));
  return s;
}

absl::Status EntryReader::ReadJob(const toml::table& job, Entry* e,
                                  std::vector<std::string>* warnings) const {
  if (absl::Status st = CheckKeys(job, kJobKeys, "job."); !st.ok()) return st;
  absl::StatusOr<std::optional<std::string>> type = String(job, "type", "job.type");
  if (!type.ok()) return type.status();
  if (!*type || (*type)->empty())
    return Error(*type ? job.get("type") : &job, "job.type", "missing (the jobtype to push)");
  e->job.jobtype = **type;

  absl::StatusOr<std::optional<std::string>> queue = String(job, "queue", "job.queue");
  if (!queue.ok()) return queue.status();
  e->job.queue = queue->value_or("default");
  if (!core::ValidQueueName(e->job.queue) || e->job.queue.size() > core::kQueueNameBytesMax)
    return Error(job.get("queue"), "job.queue", core::InvalidQueueNameError(e->job.queue));

  e->job.args_json = "[]";
  if (const toml::node* args = job.get("args")) {
    if (!args->is_array()) return Error(args, "job.args", "must be an array");
    e->job.args_json.clear();
    if (absl::Status st = AppendTomlAsJson(*args, "job.args", &e->job.args_json); !st.ok())
      return Error(args, "", std::string(st.message()));
  }
  if (const toml::node* custom = job.get("custom")) {
    if (!custom->is_table()) return Error(custom, "job.custom", "must be a table");
    if (absl::Status st = AppendTomlAsJson(*custom, "job.custom", &e->job.custom_json); !st.ok())
      return Error(custom, "", std::string(st.message()));
  }
  for (const auto& [key, out] : {std::pair<std::string_view, int64_t*>{"retry", &e->job.retry},
                                 {"reserve_for", &e->job.reserve_for}}) {
    const std::string field = "job." + std::string(key);
    absl::StatusOr<std::optional<int64_t>> v = Integer(job, key, field);
    if (!v.ok()) return v.status();
    if (*v) *out = **v;
  }
  absl::StatusOr<std::optional<int64_t>> priority = Integer(job, "priority", "job.priority");
  if (!priority.ok()) return priority.status();
  if (*priority) {
    if (**priority < 1 || **priority > 9)
      return Error(job.get("priority"), "job.priority", "must be from 1 to 9");
    e->priority = **priority;
    if (warnings)
      warnings->push_back(where_(job.get("priority")->source()) + ": [[cron]] " + label_ +
                          ": job.priority has no effect (Faktory's jobs have no priority)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Entry> EntryReader::Read(const core::JobLimits& limits,
                                        std::vector<std::string>* warnings) {
  if (absl::Status st = CheckKeys(t_, kEntryKeys, ""); !st.ok()) return st;
  absl::StatusOr<std::optional<std::string>> name = String(t_, "name", "name");
  if (!name.ok()) return name.status();
  if (*name && (*name)->empty()) return Error(t_.get("name"), "name", "must not be empty");
  absl::StatusOr<Schedule> schedule = ReadSchedule();
  if (!schedule.ok()) return schedule.status();
  Entry e{.name = name->value_or(""), .origin = Origin(), .schedule = std::move(*schedule)};
  e.label = label_;

  absl::StatusOr<std::optional<std::string>> catch_up = String(t_, "catch_up", "catch_up");
  if (!catch_up.ok()) return catch_up.status();
  if (*catch_up) {
    if (**catch_up == "skip") {
      e.catch_up = CatchUp::kSkip;
    } else if (**catch_up == "once") {
      e.catch_up = CatchUp::kOnce;
    } else {
      return Error(t_.get("catch_up"), "catch_up", "must be \"skip\" or \"once\"");
    }
  }
  absl::StatusOr<std::optional<int64_t>> grace = Integer(t_, "grace", "grace");
  if (!grace.ok()) return grace.status();
  if (*grace) {
    if (**grace < 0 || **grace > kGraceMaxS)
      return Error(t_.get("grace"), "grace",
                   "must be from 0 to " + std::to_string(kGraceMaxS) + " seconds");
    e.grace_s = **grace;
  }

  const toml::node* job = t_.get("job");
  if (!job) return Error(nullptr, "job", "missing (a [cron.job] table with the job's type)");
  if (!job->is_table()) return Error(job, "job", "must be a table ([cron.job])");
  if (absl::Status st = ReadJob(*job->as_table(), &e, warnings); !st.ok()) return st;

  e.id = EntryIdentity(e);
  // Validated as a tick will push it; stored without the tick's fields.
  core::JobSpec probe = e.job;
  probe.jid = TickJid(e.id, kValidationTickS);
  // Filled in here, not by ValidateJob, so that the size check counts it.
  probe.created_at = core::FormatRfc3339Nano(kValidationNow);
  if (absl::Status st = core::ValidateJob(probe, kValidationNow, limits); !st.ok())
    return Error(job, "job", std::string(st.message()));
  probe.jid.clear();
  probe.created_at.clear();
  e.job = std::move(probe);
  return e;
}

}  // namespace

absl::StatusOr<Table> LoadTable(const toml::table& root, const SourceNamer& where,
                                const core::JobLimits& limits) {
  Table table;
  const toml::node* cron = root.get("cron");
  if (!cron) return table;
  const toml::array* entries = cron->as_array();
  if (!entries || (!entries->empty() && !entries->is_array_of_tables()))
    return absl::InvalidArgumentError(where(cron->source()) +
                                      ": cron must be an array of tables ([[cron]] entries)");
  int index = 0;
  for (const toml::node& node : *entries) {
    EntryReader reader(*node.as_table(), ++index, where);
    absl::StatusOr<Entry> e = reader.Read(limits, &table.warnings);
    if (!e.ok()) return e.status();
    if (const Entry* same = table.Find(e->id))
      return reader.Error(nullptr, "",
                          "has the identity of [[cron]] " + same->label + " (" + same->origin +
                              "): give them distinct names (name = \"...\")");
    table.entries.push_back(std::move(*e));
  }
  return table;
}

}  // namespace werk::cron
