#!/usr/bin/env bash
# Runs README.md's walk-through (the sh blocks between the walkthrough
# markers), in order, against a fresh server on 127.0.0.1:8080 started as
# the README says, and fails unless every request succeeds but the one
# refusal the walk-through shows (a 403 for a banned address).
#
# It uses the debug build `cargo test` already made: the walk-through's
# `cargo run --release -- ARGS` runs `target/debug/moderato ARGS` here,
# which saves CI a release build of everything.
#
#   .ci/readme.sh
set -euo pipefail
cd "$(dirname "$0")/.."

command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
cargo build -q --bin moderato
bin="$PWD/target/debug/moderato"

work="$(mktemp -d)"
server=""
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A database of its own, for the server and the walk-through's CLI calls.
export MODERATO_DATABASE__URL="sqlite://$work/walkthrough.db"
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
    echo "port 8080 is taken; the walk-through needs it" >&2
    exit 1
fi
MODERATO_GUARDS__FLOOD_INTERVAL=0s "$bin" >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$work/stdout" && break
    sleep 0.1
done
grep -q "listening on" "$work/stdout" || { cat "$work/stderr" >&2; exit 1; }

awk '/<!-- walkthrough: start -->/ {on=1; next}
     /<!-- walkthrough: end -->/ {on=0}
     on && /^```sh$/ {block=1; next}
     on && /^```$/ {block=0; next}
     on && block {print}' README.md >"$work/walkthrough.sh"
[[ -s "$work/walkthrough.sh" ]] || { echo "no walk-through found in README.md" >&2; exit 1; }

# Every curl reports its status on a side channel.
cat >"$work/run.sh" <<SCRIPT
set -euo pipefail
curl() { command curl --write-out '%{stderr}HTTP %{http_code}\n' "\$@"; }
cargo() {
    [[ "\$1 \$2" == "run --release" ]] || { echo "unexpected cargo call: \$*" >&2; return 1; }
    shift 2
    [[ "\$1" == "-q" ]] && shift
    [[ "\$1" == "--" ]] && shift
    "$bin" "\$@"
}
source "$work/walkthrough.sh"
SCRIPT
bash "$work/run.sh" >"$work/out" 2>"$work/statuses" || {
    echo "the walk-through stopped:" >&2
    tail -n 20 "$work/out" "$work/statuses" >&2
    exit 1
}
[[ -n "${MODERATO_README_OUT:-}" ]] && cp "$work/out" "$MODERATO_README_OUT"
requests=$(grep -c '^HTTP ' "$work/statuses")
failed=$(grep '^HTTP [45]' "$work/statuses" | awk '{print $2}' | paste -sd' ')
echo "README walk-through: $requests requests; refused as shown: ${failed:-none}"
if [[ "$failed" != "403" ]]; then
    echo "expected exactly one refusal (403, the banned address), got: ${failed:-none}" >&2
    grep -v '^HTTP ' "$work/statuses" >&2 || true
    exit 1
fi
