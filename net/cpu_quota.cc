#include "net/cpu_quota.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>
#include <absl/strings/ascii.h>
#include <absl/strings/string_view.h>

namespace werk::net {

namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// v2: "max 100000" (no limit) or "<quota> <period>".
std::optional<double> ReadCpuMax(const std::string& dir) {
  auto text = ReadSmallFile(dir + "/cpu.max");
  if (!text) return std::nullopt;
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(*text), ' ', absl::SkipEmpty());
  int64_t quota = 0, period = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &quota) ||
      !absl::SimpleAtoi(parts[1], &period) || quota <= 0 || period <= 0)
    return std::nullopt;
  return double(quota) / double(period);
}

// v1: cpu.cfs_quota_us is -1 when there is no limit.
std::optional<double> ReadCfsQuota(const std::string& dir) {
  auto quota_text = ReadSmallFile(dir + "/cpu.cfs_quota_us");
  auto period_text = ReadSmallFile(dir + "/cpu.cfs_period_us");
  int64_t quota = 0, period = 0;
  if (!quota_text || !period_text ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*quota_text), &quota) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*period_text), &period) || quota <= 0 ||
      period <= 0)
    return std::nullopt;
  return double(quota) / double(period);
}

// The tightest of `read` on `dir` and each of its parents up to `root`.
template <class Read>
std::optional<double> Tightest(const std::string& root, absl::string_view cgroup_path, Read read) {
  std::optional<double> best;
  std::string path(cgroup_path);
  while (!path.empty() && path.back() == '/') path.pop_back();
  for (;;) {
    if (auto q = read(root + path); q && (!best || *q < *best)) best = q;
    if (path.empty()) break;
    const size_t slash = path.rfind('/');
    path.resize(slash == std::string::npos ? 0 : slash);
  }
  return best;
}

}  // namespace

std::optional<double> CgroupCpuQuota(const std::string& proc_self_cgroup,
                                     const std::string& cgroup_root) {
  std::optional<double> best;
  auto take = [&](std::optional<double> q) {
    if (q && (!best || *q < *best)) best = q;
  };
  // Lines "hierarchy-id:controllers:path"; v2 is "0::path".
  for (absl::string_view line : absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    const absl::string_view path = f[2];
    if (f[0] == "0" && f[1].empty()) {
      take(Tightest(cgroup_root, path, ReadCpuMax));
      continue;
    }
    std::vector<absl::string_view> controllers = absl::StrSplit(f[1], ',');
    if (std::find(controllers.begin(), controllers.end(), "cpu") == controllers.end()) continue;
    // v1 mounts the cpu controller as cpu,cpuacct (often also linked as cpu).
    for (const char* mount : {"/cpu,cpuacct", "/cpu"}) {
      if (auto q = Tightest(cgroup_root + mount, path, ReadCfsQuota)) {
        take(q);
        break;
      }
    }
  }
  return best;
}

std::optional<double> CgroupCpuQuota() {
  auto text = ReadSmallFile("/proc/self/cgroup");
  if (!text) return std::nullopt;
  return CgroupCpuQuota(*text, "/sys/fs/cgroup");
}

uint32_t DefaultShardCount(size_t affinity_cpus, std::optional<double> quota_cpus) {
  size_t n = std::max<size_t>(1, affinity_cpus);
  if (quota_cpus) n = std::min(n, size_t(std::max(1.0, std::ceil(*quota_cpus - 1e-9))));
  return uint32_t(n);
}

}  // namespace werk::net
