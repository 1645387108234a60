#pragma once
// How many CPUs this process may use, for the default shard count: the
// CPUs of its affinity mask (taskset, cpusets), capped by the CPU quota of
// its cgroup (a container's CPU limit: cgroup v2 `cpu.max`, v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up.

#include <cstdint>
#include <optional>
#include <string>

namespace werk::net {

// The tightest CPU quota on the way from this process's cgroup up to the
// root, in CPUs (2.5 = 250 ms per 100 ms), or nullopt when none is set.
// `proc_self_cgroup` is the text of /proc/self/cgroup; `cgroup_root` where
// the hierarchy is mounted (/sys/fs/cgroup; tests pass a directory of
// their own).
std::optional<double> CgroupCpuQuota(const std::string& proc_self_cgroup,
                                     const std::string& cgroup_root);

// The same for this process, read from /proc/self/cgroup and /sys/fs/cgroup.
std::optional<double> CgroupCpuQuota();

// The default shard count: `affinity_cpus`, capped by the quota rounded up,
// at least 1.
uint32_t DefaultShardCount(size_t affinity_cpus, std::optional<double> quota_cpus);

}  // namespace werk::net
