#!/usr/bin/env bash
# Writes a conf.d cron table of N entries to stdout, for benchmarks.
#   bash bench/scripts/cron_table.sh 10000 daily  > conf.d/cron.toml
#   bash bench/scripts/cron_table.sh 100 minutely > conf.d/cron.toml
# daily:    entry i fires once a day at minute i % 60 of hour (i / 60) % 24, in one of
#           four time zones: ~7 ticks a minute for 10,000 entries, spread over the day.
# minutely: every entry fires every minute (a burst of N ticks at each minute).
set -euo pipefail
n="${1:?usage: cron_table.sh N daily|minutely}"
kind="${2:-daily}"
zones=(UTC America/Chicago Europe/Berlin Asia/Kolkata)
for ((i = 0; i < n; i++)); do
  if [ "$kind" = minutely ]; then
    schedule="* * * * *"
  else
    schedule="$((i % 60)) $(((i / 60) % 24)) * * *"
  fi
  printf '[[cron]]\n  name = "bench-%d"\n  schedule = "%s"\n  timezone = "%s"\n' \
    "$i" "$schedule" "${zones[$((i % 4))]}"
  printf '  [cron.job]\n    type = "CronBench"\n    queue = "cron-bench"\n    args = [%d]\n' "$i"
done
