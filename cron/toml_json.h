#pragma once
// TOML values as JSON, for the args and custom of a cron entry's job.
//
// Integers, booleans and strings map one to one (strings escaped as
// Faktory's encoding/json does, core/json_writer.h); floats take Go's
// shortest form; dates and times become strings in their TOML form; tables
// become objects with their keys in sorted order (toml++ keeps them sorted),
// so equal tables give equal bytes — an entry's identity relies on it.
// Floats that are not finite have no JSON form and are an error.

#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <toml++/toml.h>

namespace werk::cron {

// Appends `node` as JSON to `out`. kInvalidArgument names the offending
// value by its path from `path`, the name of `node` ("job.args[2].rate: ...").
absl::Status AppendTomlAsJson(const toml::node& node, std::string_view path, std::string* out);

}  // namespace werk::cron
