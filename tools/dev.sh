#!/usr/bin/env bash
# The two entry points of the README, and the build the Dockerfile runs.
#
#   bash tools/dev.sh build  install what is missing, build the binaries (no
#                            tests, no benchmarks) into build/tools/
#   bash tools/dev.sh run    install what is missing, build, start werkd on
#                            127.0.0.1:7419 with ./werk-data (unless -b/--binding
#                            or -d/--data-dir say otherwise); further arguments
#                            go to werkd
#   bash tools/dev.sh test   install what is missing, build, run every test:
#                            unit, system, compatibility (npm faktory-worker),
#                            an ASan+UBSan build of the suite, and short
#                            libFuzzer runs of the parsers
#
# Packages come from Debian 12 only; nothing is downloaded by the build.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="$(nproc)"
packages=(build-essential cmake ninja-build pkg-config liburing-dev libabsl-dev
  libsimdjson-dev libxxhash-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libssl-dev openssl libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev)
# promtool (prometheus) checks /metrics in a test; the Web UI's browser test
# drives Debian's chromium.
test_packages=(clang-14 libclang-rt-14-dev prometheus chromium)

install_missing() {
  local want=("$@") missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node runs the compatibility tests only: a build without tests needs none.
  if [ "${need_node:-1}" = 1 ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
    missing+=(nodejs npm)
  fi
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# has_option <short> <long> [args...]: whether args give that option, as
# "-b X", "-bX", "--binding X" or "--binding=X" (nothing after "--").
has_option() {
  local short="$1" long="$2" a
  shift 2
  for a in "$@"; do
    case "$a" in
      --) return 1 ;;
      "$short" | "$short"?* | "$long" | "$long"=*) return 0 ;;
    esac
  done
  return 1
}

# stage <title>: says how long the stage before took, then starts this one.
stage_started=""
stage() {
  local now
  now=$(date +%s)
  [ -z "$stage_started" ] || echo "   (took $(( now - stage_started )) s)"
  stage_started=$now
  [ -z "${1:-}" ] || echo "== $1"
}

build() {  # build <dir> [cmake args...]
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "${1:-}" in
  build)
    need_node=0 install_missing "${packages[@]}"
    build build -DWERK_BUILD_TESTS=OFF -DWERK_BUILD_BENCH=OFF
    ;;
  run)
    install_missing "${packages[@]}"
    build build -DWERK_BUILD_TESTS=OFF -DWERK_BUILD_BENCH=OFF
    shift
    defaults=()
    has_option -b --binding "$@" || defaults+=(-b 127.0.0.1:7419)
    has_option -d --data-dir "$@" || defaults+=(-d werk-data)
    exec build/tools/werkd "${defaults[@]}" "$@"
    ;;
  test)
    install_missing "${packages[@]}" "${test_packages[@]}"
    start=$(date +%s)
    stage "build (RelWithDebInfo, -Werror)"
    build build -DWERK_WERROR=ON
    stage "tests"
    (cd build && ctest --output-on-failure -j "$jobs" --timeout 600)
    stage "system tests with 1 and 4 shards (the suite above ran with one per core)"
    for n in 1 4; do
      WERK_TEST_SHARDS=$n build/tests/werk_system_test --gtest_brief=1 \
        --gtest_filter='-Shards/*:CrashTest.*:StressTest.*:CronClock.*'
    done
    stage "ASan+UBSan build and tests"
    build build-asan -DWERK_WERROR=ON -DWERK_SANITIZE=address -DWERK_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=Debug
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j "$jobs" --timeout 900 -LE "compat|browser")
    stage "ThreadSanitizer: the cross-shard rings and mailbox, the published stats, and werkd with 4 shards (replication, promotion, the standby policy, fencing and rejoin included)"
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERK_WERROR=ON \
      -DWERK_SANITIZE=thread -DWERK_BUILD_BENCH=OFF >/dev/null
    cmake --build build-tsan -j "$jobs" --target werk_core_test werkd werk_system_test
    TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/werk_core_test \
      --gtest_filter='SpscRing.*:Mailbox.*:ShardCall*:ShardRuntime*:Published.*'
    # werkd's own threads under load from many clients; a report makes werkd
    # exit non-zero, which the tests see.
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 WERK_STRESS_JOBS=500 WERK_TEST_SHARDS=4 \
      build-tsan/tests/werk_system_test --gtest_brief=1 \
      --gtest_filter='StressTest.*:Shards/ProtocolTest.*/4:Shards/LongCommands.*/4:BadInput.*:Handshake.*:Replication.*:Promotion.*:StandbyPolicy.*:Fencing.*:Rejoin.*:Cron.*:Web.*'
    stage "fuzzing (libFuzzer, clang 14)"
    fuzzers=(fuzz_apply fuzz_command_line fuzz_job_decoder fuzz_log_reader fuzz_manifest
      fuzz_mutation_decoder fuzz_replication_frame fuzz_cron_expression fuzz_cron_table
      fuzz_web_request fuzz_werk_command)
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERK_BUILD_FUZZ=ON \
      -DWERK_BUILD_BENCH=OFF -DWERK_BUILD_TESTS=OFF \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
    cmake --build build-fuzz -j "$jobs" --target "${fuzzers[@]}"
    for target in "${fuzzers[@]}"; do
      mkdir -p "build-fuzz/corpus/$target"
      "build-fuzz/tests/fuzz/$target" -max_total_time="${WERK_FUZZ_SECONDS:-30}" \
        -print_final_stats=1 "build-fuzz/corpus/$target" "tests/fuzz/seeds/$target" 2>&1 |
        grep -E "stat::number_of_executed_units|ERROR|SUMMARY" || true
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzzer $target failed"; exit 1; }
    done
    stage
    echo "== all tests passed in $(( $(date +%s) - start )) s"
    ;;
  *)
    echo "usage: bash tools/dev.sh build|run|test" >&2
    exit 2
    ;;
esac
