#include "cron/toml_json.h"

#include <cmath>
#include <sstream>
#include <string>

#include "core/json_writer.h"

namespace werk::cron {

namespace {

// Deep enough for any real job; bounds the recursion on hostile input.
constexpr int kDepthMax = 64;

template <typename T>
std::string TomlText(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

absl::Status Append(const toml::node& node, const std::string& path, int depth,
                    std::string* out) {
  if (depth > kDepthMax)
    return absl::InvalidArgumentError(path + ": nested more than " + std::to_string(kDepthMax) +
                                      " deep");
  switch (node.type()) {
    case toml::node_type::string:
      core::AppendJsonString(*out, node.as_string()->get());
      return absl::OkStatus();
    case toml::node_type::integer:
      core::AppendJsonInt(*out, node.as_integer()->get());
      return absl::OkStatus();
    case toml::node_type::floating_point: {
      const double v = node.as_floating_point()->get();
      if (!std::isfinite(v))
        return absl::InvalidArgumentError(path +
                                          ": inf and nan have no JSON form");
      core::AppendJsonDouble(*out, v);
      return absl::OkStatus();
    }
    case toml::node_type::boolean:
      out->append(node.as_boolean()->get() ? "true" : "false");
      return absl::OkStatus();
    case toml::node_type::date:
      core::AppendJsonString(*out, TomlText(node.as_date()->get()));
      return absl::OkStatus();
    case toml::node_type::time:
      core::AppendJsonString(*out, TomlText(node.as_time()->get()));
      return absl::OkStatus();
    case toml::node_type::date_time:
      core::AppendJsonString(*out, TomlText(node.as_date_time()->get()));
      return absl::OkStatus();
    case toml::node_type::array: {
      out->push_back('[');
      size_t i = 0;
      for (const toml::node& item : *node.as_array()) {
        if (i > 0) out->push_back(',');
        if (absl::Status st = Append(item, path + "[" + std::to_string(i) + "]", depth + 1, out);
            !st.ok())
          return st;
        ++i;
      }
      out->push_back(']');
      return absl::OkStatus();
    }
    case toml::node_type::table: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : *node.as_table()) {
        if (!first) out->push_back(',');
        first = false;
        core::AppendJsonString(*out, key.str());
        out->push_back(':');
        const std::string sub = path + "." + std::string(key.str());
        if (absl::Status st = Append(value, sub, depth + 1, out); !st.ok()) return st;
      }
      out->push_back('}');
      return absl::OkStatus();
    }
    case toml::node_type::none:
      break;
  }
  return absl::InvalidArgumentError(path + ": has no JSON form");
}

}  // namespace

absl::Status AppendTomlAsJson(const toml::node& node, std::string_view path, std::string* out) {
  return Append(node, std::string(path), 0, out);
}

}  // namespace werk::cron
