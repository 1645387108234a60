#pragma once
// A writer of the Prometheus text exposition format (version 0.0.4): metric
// families, each with its HELP and TYPE once and its samples together.
// Label values are escaped (a queue name is a client's string); metric and
// label names are the caller's constants.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace werk::net::web {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  // Starts a family: `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family (or, for histograms, `name` with its
  // _bucket/_sum/_count suffix).
  void Sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void Sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void Sample(std::string_view name, std::initializer_list<Label> labels, int64_t value) {
    Sample(name, labels, double(value));
  }
  // A histogram's samples: cumulative buckets at `bounds` (then +Inf), the
  // sum and the count. `counts[i]` holds the observations in bucket i (not
  // cumulative; counts has bounds.size() + 1 entries, the last one above
  // every bound); `scale` turns a bound into the exported unit.
  void Histogram(std::string_view name, std::initializer_list<Label> labels, const double* bounds,
                 const uint64_t* counts, size_t bound_count, double sum, double scale);

  std::string& text() { return out_; }

 private:
  void AppendLabels(std::initializer_list<Label> labels, std::string_view le = {});
  void AppendValue(double v);

  std::string out_;
};

}  // namespace werk::net::web
