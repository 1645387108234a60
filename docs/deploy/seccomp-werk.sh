#!/usr/bin/env bash
# Makes a seccomp profile for werkd from Docker's default profile: the same
# allow list, resolved for one architecture and for a container without
# added capabilities (as Docker resolves it when it starts a container), plus
# the three io_uring system calls werk needs. The output is in the OCI
# runtime-spec form (an "architectures" list, no conditional entries), which
# Docker (--security-opt seccomp=FILE), containerd and CRI-O (Kubernetes
# Localhost profiles) all load the same way.
#
#   seccomp-werk.sh DEFAULT.json [amd64|arm64] > seccomp-werk.json
#
# DEFAULT.json is Docker's default profile for the engine version you run:
# vendor/github.com/moby/profiles/seccomp/default.json in the moby repository
# at the engine's tag (profiles/seccomp/default.json before Docker 29).
# The architecture defaults to this machine's.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 DEFAULT.json [amd64|arm64] > profile.json" >&2
  exit 2
fi
arch=${2:-}
if [[ -z $arch ]]; then
  case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) echo "$0: unsupported machine $(uname -m); pass amd64 or arm64" >&2; exit 2 ;;
  esac
fi
case $arch in
  amd64) native=SCMP_ARCH_X86_64 ;;
  arm64) native=SCMP_ARCH_AARCH64 ;;
  *) echo "$0: unsupported architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac

# Entries gated on a kernel version are kept when werk's minimum (5.19)
# satisfies them; an exclusion by kernel version is not resolved (none exists
# in the profiles this was written against) and stops the script.
jq --arg arch "$arch" --arg native "$native" '
  def version: split(".") | map(tonumber);
  def werk_kernel: [5, 19];
  if (.syscalls | map(select(.excludes.minKernel != null)) | length) > 0 then
    error("an entry is excluded by kernel version: resolve it by hand")
  elif (.archMap == null) then
    error("no archMap: not a Docker default profile")
  else . end
  | {
      defaultAction,
      defaultErrnoRet,
      architectures: [.archMap[] | select(.architecture == $native)
                      | .architecture, (.subArchitectures // [])[]],
      syscalls: ([.syscalls[]
        # No capabilities: an exclusion by capability never applies, an
        # inclusion by capability never does.
        | select((.excludes.arches // []) | any(. == $arch) | not)
        | select((.includes.arches // []) | length == 0 or any(. == $arch))
        | select((.includes.caps // []) | length == 0)
        | select(.includes.minKernel == null or (.includes.minKernel | version) <= werk_kernel)
        | {names, action}
          + (if .errnoRet != null then {errnoRet} else {} end)
          + (if .args != null then {args} else {} end)]
        + [{names: ["io_uring_enter", "io_uring_register", "io_uring_setup"],
            action: "SCMP_ACT_ALLOW"}])
    }
  | if .defaultAction != "SCMP_ACT_ERRNO" then error("unexpected defaultAction") else . end
' "$1"
