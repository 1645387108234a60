#pragma once
// Loads [[cron]] from TOML text as the server does, naming lines
// "cron.toml:<line>".

#include <toml++/toml.h>

#include <string>

#include "cron/entry.h"

namespace werk::cron::testing {

inline absl::StatusOr<Table> LoadToml(const std::string& text, core::JobLimits limits = {}) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view("cron.toml"));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError("test TOML does not parse: " +
                                      std::string(e.description()));
  }
  const SourceNamer where = [](const toml::source_region& r) {
    return "cron.toml:" + std::to_string(r.begin.line);
  };
  return LoadTable(root, where, limits);
}

// The error message of loading `text` ("" when it loads).
inline std::string LoadError(const std::string& text) {
  absl::StatusOr<Table> t = LoadToml(text);
  return t.ok() ? "" : std::string(t.status().message());
}

}  // namespace werk::cron::testing
