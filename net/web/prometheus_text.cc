#include "net/web/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace werk::net::web {

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).push_back(' ');
  for (const char c : help) {  // HELP escapes \ and newline
    if (c == '\\') out_.append("\\\\");
    else if (c == '\n') out_.append("\\n");
    else out_.push_back(c);
  }
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(type).push_back('\n');
}

void PrometheusText::AppendLabels(std::initializer_list<Label> labels, std::string_view le) {
  if (labels.size() == 0 && le.empty()) return;
  out_.push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(name).append("=\"");
    for (const char c : value) {  // label values escape \ " and newline
      if (c == '\\') out_.append("\\\\");
      else if (c == '"') out_.append("\\\"");
      else if (c == '\n') out_.append("\\n");
      else out_.push_back(c);
    }
    out_.push_back('"');
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (!le.empty()) one("le", le);
  out_.push_back('}');
}

void PrometheusText::AppendValue(double v) {
  if (std::isnan(v)) {
    out_.append("NaN");
  } else if (std::isinf(v)) {
    out_.append(v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
    out_.append(std::to_string(int64_t(v)));
  } else {
    // The shortest text that reads back as the same double.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
}

void PrometheusText::Sample(std::string_view name, std::initializer_list<Label> labels,
                            double value) {
  out_.append(name);
  AppendLabels(labels);
  out_.push_back(' ');
  AppendValue(value);
  out_.push_back('\n');
}

void PrometheusText::Sample(std::string_view name, std::initializer_list<Label> labels,
                            uint64_t value) {
  out_.append(name);
  AppendLabels(labels);
  out_.push_back(' ');
  out_.append(std::to_string(value));
  out_.push_back('\n');
}

void PrometheusText::Histogram(std::string_view name, std::initializer_list<Label> labels,
                               const double* bounds, const uint64_t* counts, size_t bound_count,
                               double sum, double scale) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i < bound_count; ++i) {
    cumulative += counts[i];
    std::snprintf(le, sizeof le, "%.9g", bounds[i] * scale);
    out_.append(bucket);
    AppendLabels(labels, le);
    out_.push_back(' ');
    out_.append(std::to_string(cumulative));
    out_.push_back('\n');
  }
  cumulative += counts[bound_count];
  out_.append(bucket);
  AppendLabels(labels, "+Inf");
  out_.push_back(' ');
  out_.append(std::to_string(cumulative));
  out_.push_back('\n');
  Sample(std::string(name) + "_sum", labels, sum * scale);
  Sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace werk::net::web
