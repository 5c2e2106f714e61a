#!/usr/bin/env bash
# Load benchmark of the moderato server: builds it in release mode, seeds a
# fresh database through its HTTP API and drives each workload with wrk over
# loopback. Everything but installing wrk happens in bench/load.rs.
#
#   bench/load.sh [--postgres URL] [--duration SECS] [--connections N] [--quick] [--scale]
#
#   (no flag)          SQLite in a temporary directory
#   --postgres URL     a fresh schema in that PostgreSQL database, e.g.
#                      postgres://postgres@127.0.0.1:5432/test (dropped at the end)
#   --duration SECS    seconds per workload (default 10)
#   --connections N    wrk connections (default 64; 2 wrk threads)
#   --quick            3 s per workload (the data set stays the same)
#   --scale            also seed up to 1,000,000 stored comments and measure
#                      the moderation queue again (adds about 6 minutes on
#                      SQLite, more on PostgreSQL, on 2 cores)
#   --keep             keep the database afterwards
#   --help             every option
#
# The default run takes about 4 minutes on 2 cores after the build (SQLite;
# about 6 on PostgreSQL, most of it seeding 210,000 comments). Results: a Markdown table on stdout and
# target/bench/load-<backend>.json; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "[load.sh] installing wrk" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
        sudo apt-get install -y wrk >/dev/null 2>&1 || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
    fi
fi

started=$(date +%s)
cargo bench --bench load --no-run >&2
built=$(date +%s)
echo "[load.sh] build: $((built - started)) s" >&2

status=0
cargo bench --bench load -- "$@" || status=$?
finished=$(date +%s)
echo
echo "End to end: $((finished - started)) s (build $((built - started)) s, benchmark $((finished - built)) s)"
exit "$status"
