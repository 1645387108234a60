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

namespace werk::net {

namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Faktory: a password starting with '/' names a file holding it.
core::OpResult<std::string> ResolvePassword(const std::string& value) {
  if (value.empty() || value[0] != '/') return value;
  std::ifstream in(value);
  if (!in) return absl::InvalidArgumentError("cannot read the password file " + value);
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
};

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
  return st;
}

}  // namespace

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

absl::Status LoadConfig(ServerOptions* o, const FlagsGiven& given) {
  if (o->environment != "development" && o->environment != "staging" &&
      o->environment != "production") {
    return absl::InvalidArgumentError("unknown environment '" + o->environment +
                                      "': use development, staging or production");
  }
  std::string toml_password;
  const fs::path confd = fs::path(o->config_dir) / "conf.d";
  std::error_code ec;
  if (!o->config_dir.empty() && fs::is_directory(confd, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(confd, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".toml")
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::string doc;
    for (const auto& f : files) {
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      doc += ss.str();
      doc += "\n";
    }
    if (!doc.empty()) {
      toml::table t;
      try {
        t = toml::parse(doc, (confd / "*.toml").string());
      } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << "cannot parse " << confd.string() << "/*.toml (files are read in order and "
            << "concatenated): " << e.description() << " at line " << e.source().begin.line;
        return absl::InvalidArgumentError(msg.str());
      }
      if (auto v = t["faktory"]["password"].value<std::string>()) toml_password = *v;
      if (!given.binding)
        if (auto v = t["faktory"]["binding"].value<std::string>()) o->binding = *v;
      if (!given.web_binding)
        if (auto v = t["web"]["binding"].value<std::string>()) o->web_binding = *v;
      if (const toml::table* w = t["werk"].as_table()) {
        if (auto st = ReadWerkTable(*w, o, given); !st.ok()) return st;
      }
    }
  }
  const char* env = std::getenv("FAKTORY_PASSWORD");
  core::OpResult<std::string> password = ResolvePassword(env && *env ? env : toml_password);
  if (!password.ok()) return password.status();
  o->password = std::move(*password);
  if (o->password.empty() && o->environment != "development" &&
      !TruthyEnv("FAKTORY_SKIP_PASSWORD")) {
    return absl::InvalidArgumentError(
        "werk requires a password in " + o->environment +
        ": set FAKTORY_PASSWORD or [faktory] password in conf.d, or FAKTORY_SKIP_PASSWORD=1");
  }
  if (o->line_bytes_max > core::kLineBytesMax)
    return absl::InvalidArgumentError("line_bytes_max is above the hard limit of " +
                                      std::to_string(core::kLineBytesMax));
  if (o->job_bytes_max > o->line_bytes_max) o->job_bytes_max = o->line_bytes_max;
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
  std::string host, port;
  if (!SplitHostPort(o->binding, &host, &port))
    return absl::InvalidArgumentError("invalid binding '" + o->binding + "'");
  return absl::OkStatus();
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
