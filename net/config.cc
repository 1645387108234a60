#include "net/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include "core/op_status.h"
#include "cron/entry.h"
#include "net/tls_context.h"

namespace werk::net {

namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

core::OpResult<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("cannot read the password file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Trim(ss.str());
}

bool TruthyEnv(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return false;
  const std::string s = absl::AsciiStrToLower(v);
  return s == "1" || s == "true" || s == "yes";
}

constexpr int64_t kTimeoutSecondsMax = 7 * 24 * 3600;

// `zero_ok`: 0 is a meaning of its own (e.g. "disabled").
template <typename T>
core::OpStatus ReadLimit(const toml::table& t, std::string_view key, T* out,
                         bool zero_ok = false) {
  auto node = t[key];
  if (!node) return core::OkStatus();
  auto v = node.value<int64_t>();
  if (!v || *v < 0 || (*v == 0 && !zero_ok)) {
    return absl::InvalidArgumentError("[werk] " + std::string(key) + " must be a " +
                                      (zero_ok ? "non-negative" : "positive") + " integer");
  }
  *out = T(*v);
  return core::OkStatus();
}

// Every key [werk] accepts; anything else is refused rather than ignored.
constexpr std::string_view kWerkKeys[] = {
    "shards",        "connections_max",           "line_bytes_max",    "job_bytes_max",
    "idle_timeout",  "handshake_connections_max", "handshake_timeout", "heartbeat_timeout",
    "replica_of",    "replication_bind",          "standby_policy",    "standby_timeout",
    "discard_diverged",
};

core::OpStatus ReadAddress(const toml::table& w, std::string_view key, std::string* out) {
  const toml::node* n = w.get(key);
  if (!n) return core::OkStatus();
  std::optional<std::string> v = n->value<std::string>();
  std::string host, port;
  if (!v || !SplitHostPort(*v, &host, &port))
    return absl::InvalidArgumentError("[werk] " + std::string(key) + " must be a \"host:port\" string");
  *out = *v;
  return core::OkStatus();
}

// `empty_is_loopback`: an address to connect to (an empty host dials
// 127.0.0.1); to listen on, an empty host is every interface.
bool Loopback(const std::string& address, bool empty_is_loopback) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) return false;
  if (host.empty()) return empty_is_loopback;
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

core::OpStatus ReadWerkTable(const toml::table& w, ServerOptions* o, const FlagsGiven& given) {
  for (const auto& [key, value] : w) {
    if (std::find(std::begin(kWerkKeys), std::end(kWerkKeys), key.str()) == std::end(kWerkKeys))
      return absl::InvalidArgumentError("[werk] has no setting '" + std::string(key.str()) + "'");
  }
  core::OpStatus st;
  // In order, up to the first error (a flag given on the command line wins).
  auto read = [&](bool flag_given, std::string_view key, auto* out, bool zero_ok = false) {
    if (st.ok() && !flag_given) st = ReadLimit(w, key, out, zero_ok);
  };
  read(given.connections_max, "connections_max", &o->connections_max);
  read(given.line_bytes_max, "line_bytes_max", &o->line_bytes_max);
  read(given.job_bytes_max, "job_bytes_max", &o->job_bytes_max);
  read(given.shards, "shards", &o->shards);
  read(given.handshake_connections_max, "handshake_connections_max",
       &o->handshake_connections_max);
  read(given.handshake_timeout, "handshake_timeout", &o->handshake_timeout_s);
  read(given.idle_timeout, "idle_timeout", &o->idle_timeout_s, /*zero_ok=*/true);
  read(given.heartbeat_timeout, "heartbeat_timeout", &o->heartbeat_timeout_s);
  if (st.ok() && !given.replica_of) st = ReadAddress(w, "replica_of", &o->replica_of);
  if (st.ok() && !given.replication_binding)
    st = ReadAddress(w, "replication_bind", &o->replication_binding);
  if (st.ok() && !given.standby_policy) {
    if (const toml::node* n = w.get("standby_policy")) {
      std::optional<std::string> v = n->value<std::string>();
      std::optional<wal::StandbyPolicy> p = v ? ParseStandbyPolicy(*v) : std::nullopt;
      if (!p)
        return absl::InvalidArgumentError(
            "[werk] standby_policy must be \"required\" or \"degrade\"");
      o->standby_policy = *p;
    }
  }
  if (st.ok() && !given.discard_diverged) {
    if (const toml::node* n = w.get("discard_diverged")) {
      std::optional<bool> v = n->value<bool>();
      if (!v) return absl::InvalidArgumentError("[werk] discard_diverged must be true or false");
      o->discard_diverged = *v;
    }
  }
  if (st.ok() && !given.standby_timeout) {
    if (const toml::node* n = w.get("standby_timeout")) {
      std::optional<double> v = n->value<double>();
      if (!v || !(*v >= kStandbyTimeoutMinS && *v <= kStandbyTimeoutMaxS))
        return absl::InvalidArgumentError(
            "[werk] standby_timeout must be a number of seconds from 0.1 to 3600");
      o->standby_timeout_ms = int64_t(*v * 1000);
    }
  }
  return st;
}

// conf.d's files concatenated into one document, and the line each begins
// at, so that a node's source line names the file it came from.
struct ConfDoc {
  std::string text;
  std::vector<std::pair<uint32_t, std::string>> starts;  // (first line, path), ascending
  uint32_t next_line = 1;

  void Add(const fs::path& path, const std::string& content) {
    starts.emplace_back(next_line, path.string());
    text += content;
    text += "\n";
    next_line += uint32_t(std::count(content.begin(), content.end(), '\n')) + 1;
  }
  // The file holding `line` of the document, and the line within it.
  std::pair<std::string, uint32_t> Locate(uint32_t line) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), line,
                               [](uint32_t l, const auto& s) { return l < s.first; });
    if (it == starts.begin()) return {"conf.d", line};
    --it;
    return {it->second, line - it->first + 1};
  }
  std::string FileOf(const toml::source_region& where) const {
    return Locate(where.begin.line).first;
  }
};

core::OpResult<ConfDoc> ReadConfD(const fs::path& confd) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(confd, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      files.push_back(entry.path());
  }
  if (ec) return absl::InvalidArgumentError("cannot list " + confd.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  ConfDoc doc;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) return absl::InvalidArgumentError("cannot read " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    doc.Add(f, ss.str());
  }
  return doc;
}

// conf.d read and parsed: the document, and where its lines came from.
struct ParsedConfD {
  ConfDoc doc;
  toml::table table;
};

// An absent conf.d (or one without .toml files) is an empty document.
core::OpResult<ParsedConfD> ParseConfD(const std::string& config_dir) {
  ParsedConfD parsed;
  const fs::path confd = fs::path(config_dir) / "conf.d";
  std::error_code ec;
  if (config_dir.empty() || !fs::is_directory(confd, ec)) return parsed;
  core::OpResult<ConfDoc> doc = ReadConfD(confd);
  if (!doc.ok()) return doc.status();
  parsed.doc = std::move(*doc);
  if (parsed.doc.text.empty()) return parsed;
  try {
    parsed.table = toml::parse(parsed.doc.text, (confd / "*.toml").string());
  } catch (const toml::parse_error& e) {
    const auto [file, line] = parsed.doc.Locate(e.source().begin.line);
    std::ostringstream msg;
    msg << "cannot parse " << file << ": " << e.description() << " at line " << line
        << " (the files of " << confd.string()
        << " are read in order and parsed as one document)";
    return absl::InvalidArgumentError(msg.str());
  }
  return parsed;
}

// The [[cron]] entries of a parsed conf.d; errors and warnings name
// "<file>:<line>".
core::OpResult<std::shared_ptr<const cron::Table>> LoadCron(const ParsedConfD& parsed,
                                                             const core::JobLimits& limits,
                                                             std::vector<std::string>* warnings) {
  const ConfDoc& doc = parsed.doc;
  const cron::SourceNamer where = [&doc](const toml::source_region& region) {
    const auto [file, line] = doc.Locate(region.begin.line);
    return file + ":" + std::to_string(line);
  };
  core::OpResult<cron::Table> table = cron::LoadTable(parsed.table, where, limits);
  if (!table.ok()) return table.status();
  if (warnings)
    warnings->insert(warnings->end(), table->warnings.begin(), table->warnings.end());
  return std::make_shared<const cron::Table>(std::move(*table));
}

// Faktory's tables werk knows of but does not implement, and what an
// operator loses with them.
std::string_view UnimplementedEffect(std::string_view table) {
  if (table == "statsd") return "no metrics are sent to statsd";
  if (table == "throttles") return "queues are not throttled";
  return {};
}

constexpr std::string_view kFaktoryKeys[] = {"password", "binding"};
// Faktory's [web] settings: the UI's binding, and its own password.
constexpr std::string_view kWebKeys[] = {"password", "binding"};

template <size_t N>
bool Known(const std::string_view (&keys)[N], std::string_view key) {
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

// Checks the document's shape: [faktory], [web] and [werk] must be tables
// and Faktory's settings strings; everything werk will not act on becomes a
// warning naming its file, in the order of the document.
core::OpStatus CheckTables(const toml::table& t, const ConfDoc& doc,
                           std::vector<std::string>* warnings) {
  std::vector<std::pair<uint32_t, std::string>> found;
  auto warn = [&](const toml::source_region& where, const std::string& what) {
    found.emplace_back(where.begin.line, doc.FileOf(where) + ": " + what);
  };
  for (const auto& [key, node] : t) {
    const std::string name(key.str());
    if (name == "faktory" || name == "web" || name == "werk") {
      const toml::table* table = node.as_table();
      if (!table) return absl::InvalidArgumentError(doc.FileOf(key.source()) + ": " + name +
                                                    " must be a table ([" + name + "])");
      if (name == "werk") continue;  // ReadWerkTable refuses unknown keys
      for (const auto& [sub, value] : *table) {
        const std::string setting = "[" + name + "] " + std::string(sub.str());
        if (!Known(name == "faktory" ? kFaktoryKeys : kWebKeys, sub.str())) {
          warn(sub.source(), setting + " is not implemented by werk (ignored)");
        } else if (!value.is_string()) {
          return absl::InvalidArgumentError(doc.FileOf(sub.source()) + ": " + setting +
                                            " must be a string");
        }
      }
      continue;
    }
    if (name == "cron") continue;  // cron::LoadTable reads it, and refuses what it cannot run
    const std::string_view effect = UnimplementedEffect(name);
    const std::string shown = node.is_array_of_tables() ? "[[" + name + "]]"
                              : node.is_table()         ? "[" + name + "]"
                                                        : name;
    if (!effect.empty()) {
      warn(key.source(),
           shown + " is not implemented by werk yet (" + std::string(effect) + ")");
    } else {
      warn(key.source(), shown + " is not a Faktory or werk setting (ignored)");
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (warnings)
    for (auto& [line, text] : found) warnings->push_back(std::move(text));
  return core::OkStatus();
}

}  // namespace

core::OpResult<std::string> ResolvePassword(const std::string& value) {
  if (value.empty() || value[0] != '/') return value;
  return ReadPasswordFile(value);
}

std::string DefaultDataDir(const std::string& environment) {
  return environment == "development" ? kDevelopmentDataDir : kFaktoryDataDir;
}

std::string DefaultConfigDir(const std::string& environment) {
  return environment == "development" ? kDevelopmentConfigDir : kFaktoryConfigDir;
}

bool SplitHostPort(const std::string& binding, std::string* host, std::string* port) {
  if (!binding.empty() && binding[0] == '[') {
    const auto close = binding.find(']');
    if (close == std::string::npos || close + 1 >= binding.size() || binding[close + 1] != ':')
      return false;
    *host = binding.substr(1, close - 1);
    *port = binding.substr(close + 2);
  } else {
    const auto colon = binding.rfind(':');
    if (colon == std::string::npos) return false;
    *host = binding.substr(0, colon);
    *port = binding.substr(colon + 1);
  }
  if (port->empty() || !std::all_of(port->begin(), port->end(), ::isdigit)) return false;
  return true;
}

std::optional<wal::StandbyPolicy> ParseStandbyPolicy(std::string_view name) {
  if (name == "required") return wal::StandbyPolicy::kRequired;
  if (name == "degrade") return wal::StandbyPolicy::kDegrade;
  return std::nullopt;
}

absl::Status CheckReplication(const ServerOptions& o) {
  std::string host, port;
  for (const auto& [name, address] :
       {std::pair<const char*, const std::string*>{"--replica-of", &o.replica_of},
        {"--replication-bind", &o.replication_binding}}) {
    if (!address->empty() && !SplitHostPort(*address, &host, &port))
      return absl::InvalidArgumentError(std::string(name) + ": invalid address '" + *address +
                                        "' (expected host:port)");
  }
  // Both together: a standby binds --replication-bind at start and listens
  // there for a standby of its own only once promoted (docs/replication.md
  // "Promotion"); until then it serves no standby (one standby per primary).
  // The link is authenticated with the password: without one, anyone who
  // reaches the port could read every job, or feed a standby.
  if (o.password.empty()) {
    if (!o.replication_binding.empty() && !Loopback(o.replication_binding, false))
      return absl::InvalidArgumentError(
          "--replication-bind " + o.replication_binding +
          " needs a password (the replication link is authenticated with it); without one it "
          "may only listen on a loopback address");
    if (!o.replica_of.empty() && !Loopback(o.replica_of, true))
      return absl::InvalidArgumentError(
          "--replica-of " + o.replica_of +
          " needs a password (the replication link is authenticated with it); without one the "
          "primary may only be on a loopback address");
  }
  return absl::OkStatus();
}

absl::Status LoadConfig(ServerOptions* o, const FlagsGiven& given,
                        std::vector<std::string>* warnings) {
  if (o->environment != "development" && o->environment != "staging" &&
      o->environment != "production") {
    return absl::InvalidArgumentError("unknown environment '" + o->environment +
                                      "': use development, staging or production");
  }
  const bool development = o->environment == "development";
  std::string toml_password;
  bool toml_job_bytes_max = false;
  std::error_code ec;
  core::OpResult<ParsedConfD> parsed = ParseConfD(o->config_dir);
  if (!parsed.ok()) return parsed.status();
  {
    const toml::table& t = parsed->table;
    const ConfDoc& doc = parsed->doc;
    if (auto st = CheckTables(t, doc, warnings); !st.ok()) return st;
    if (auto v = t["faktory"]["password"].value<std::string>()) toml_password = *v;
    if (!given.binding)
      if (auto v = t["faktory"]["binding"].value<std::string>()) o->binding = *v;
    if (!given.web_binding)
      if (auto v = t["web"]["binding"].value<std::string>()) o->web_binding = *v;
    if (auto v = t["web"]["password"].value<std::string>()) {
      core::OpResult<std::string> web_password = ResolvePassword(*v);
      if (!web_password.ok())
        return absl::InvalidArgumentError("[web] password: " +
                                          std::string(web_password.status().message()));
      o->web_password = std::move(*web_password);
    }
    if (const toml::table* w = t["werk"].as_table()) {
      if (auto st = ReadWerkTable(*w, o, given); !st.ok())
        return absl::InvalidArgumentError(doc.FileOf(w->source()) + ": " +
                                          std::string(st.message()));
      toml_job_bytes_max = w->contains("job_bytes_max");
    }
  }
  const char* env = std::getenv("FAKTORY_PASSWORD");
  core::OpResult<std::string> password = ResolvePassword(env && *env ? env : toml_password);
  if (!password.ok()) return password.status();
  o->password = std::move(*password);
  // Faktory's fallback outside development: a password file in a fixed place.
  if (o->password.empty() && !development && !(env && *env) && toml_password.empty() &&
      !o->password_file_fallback.empty() && fs::exists(o->password_file_fallback, ec)) {
    core::OpResult<std::string> from_file = ReadPasswordFile(o->password_file_fallback);
    if (!from_file.ok()) return from_file.status();
    o->password = std::move(*from_file);
  }
  if (o->password.empty() && !development && !TruthyEnv("FAKTORY_SKIP_PASSWORD")) {
    return absl::InvalidArgumentError(
        "werk requires a password in " + o->environment +
        ": set FAKTORY_PASSWORD or [faktory] password in conf.d, write it to " +
        (o->password_file_fallback.empty() ? std::string("a file")
                                           : o->password_file_fallback) +
        ", or set FAKTORY_SKIP_PASSWORD=1");
  }
  if (o->line_bytes_max > core::kLineBytesMax)
    return absl::InvalidArgumentError("line_bytes_max is above the hard limit of " +
                                      std::to_string(core::kLineBytesMax));
  if (o->job_bytes_max > o->line_bytes_max) {
    // A job arrives on one line, so the line limit bounds it anyway; said
    // aloud when the job limit was set explicitly.
    if (warnings && (given.job_bytes_max || toml_job_bytes_max))
      warnings->push_back("job_bytes_max (" + std::to_string(o->job_bytes_max) +
                          ") is above line_bytes_max (" + std::to_string(o->line_bytes_max) +
                          "): jobs are limited to " + std::to_string(o->line_bytes_max) +
                          " bytes");
    o->job_bytes_max = o->line_bytes_max;
  }
  // Timeouts become milliseconds and deadlines: bounded, so no arithmetic on
  // them can overflow.
  for (const auto& [name, seconds] :
       {std::pair<const char*, int64_t>{"handshake_timeout", o->handshake_timeout_s},
        {"idle_timeout", o->idle_timeout_s},
        {"heartbeat_timeout", o->heartbeat_timeout_s},
        {"reserve_for_min", o->reserve_for_min_s}}) {
    if (seconds > kTimeoutSecondsMax)
      return absl::InvalidArgumentError(std::string(name) + " is above the limit of " +
                                        std::to_string(kTimeoutSecondsMax) + " seconds (7 days)");
  }
  // Outside development werk's data directory is Faktory's: a server put in
  // Faktory's place finds Faktory's Redis data there, which it cannot read.
  if (warnings && !o->data_dir.empty() &&
      fs::exists(fs::path(o->data_dir) / "faktory.rdb", ec)) {
    warnings->push_back((fs::path(o->data_dir) / "faktory.rdb").string() +
                        " is Faktory's Redis data: werk does not read it, and the jobs it holds "
                        "are not served");
  }
  std::string host, port;
  if (!SplitHostPort(o->binding, &host, &port))
    return absl::InvalidArgumentError("invalid binding '" + o->binding + "'");
  if (auto st = CheckReplication(*o); !st.ok()) return st;
  // TLS on the command port when the config directory has the key and the
  // certificate; a bad one refuses the start, naming the file.
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls =
      TlsContext::LoadFromConfigDir(o->config_dir, warnings);
  if (!tls.ok()) return tls.status();
  o->tls = std::move(*tls);
  // Last: a cron job is validated against the job limit as finally set.
  core::OpResult<std::shared_ptr<const cron::Table>> table =
      LoadCron(*parsed, core::JobLimits{.job_bytes_max = o->job_bytes_max}, warnings);
  if (!table.ok()) return table.status();
  o->cron = std::move(*table);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const cron::Table>> LoadCronTable(
    const std::string& config_dir, const core::JobLimits& limits,
    std::vector<std::string>* warnings) {
  core::OpResult<ParsedConfD> parsed = ParseConfD(config_dir);
  if (!parsed.ok()) return parsed.status();
  return LoadCron(*parsed, limits, warnings);
}

std::optional<ServerOptions::RecordRef> ParseRecordRef(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  ServerOptions::RecordRef ref;
  uint64_t shard = 0;
  if (!absl::SimpleAtoi(text.substr(0, colon), &shard) || shard >= core::kShardsMax ||
      !absl::SimpleAtoi(text.substr(colon + 1), &ref.lsn) || ref.lsn == 0 ||
      text.find_first_not_of("0123456789:") != std::string::npos)
    return std::nullopt;
  ref.shard = uint32_t(shard);
  return ref;
}

}  // namespace werk::net
