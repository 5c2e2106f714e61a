#!/usr/bin/env bash
# Reading a thread through Isso's API (GET /isso/?uri=...) against the JSON
# API's first page (keyset-paged), both from the public cache once read, on
# a thread of 200 comments and one of 10,000,
# each with a fifth of them top-level and the rest replies to those.
#
#   bench/isso-read.sh [--duration SECS] [--connections N]
#
# Builds the release binary, starts it on a fresh SQLite file, seeds through
# the JSON API (curl, 8 at a time), then runs wrk (2 threads) on each read.
# Prints a Markdown table: requests/s, p50, p99, the answer's size.
# Needs curl, wrk and sqlite3. About 2 minutes on 2 cores after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=16
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done

cargo build --release --bin moderato >&2
bin="${CARGO_TARGET_DIR:-target}/release/moderato"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat >"$dir/bench.toml" <<'EOF'
[log]
level = "error"
[guards]
flood_interval = "0s"
refuse_duplicates = false
[comments.rate_limit]
per_ip = 0
per_account = 0
EOF
"$bin" serve --bind 127.0.0.1:0 --config "$dir/bench.toml" --database "sqlite://$dir/bench.db" \
    >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$dir/out" 2>/dev/null && break
    sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$dir/out")
[ -n "$base" ] || { cat "$dir/err" >&2; exit 1; }

post() { # key-encoded body-json
    curl -sf -o /dev/null -X POST "$base/api/v1/articles/$1/comments" \
        -H 'content-type: application/json' -d "$2"
}
export -f post
export base

# seed KEY TOTAL: TOTAL/5 top-level comments, then the rest replying to them.
seed() {
    local key=$1 total=$2 top=$(($2 / 5)) first
    local encoded
    encoded=$(printf '%s' "$key" | sed 's|/|%2F|g')
    first=$(($(sqlite3 "$dir/bench.db" 'SELECT coalesce(max(id), 0) FROM comments') + 1))
    seq 1 "$top" | xargs -P 8 -I{} bash -c \
        "post '$encoded' '{\"body\":\"Top-level comment {} of $key, with a few words to read.\",\"author\":{\"name\":\"Reader {}\",\"email\":\"r{}@example.com\"}}'"
    seq 1 $((total - top)) | xargs -P 8 -I{} bash -c \
        "post '$encoded' '{\"body\":\"Reply {} on $key, also with a few words.\",\"parent_id\":'\$(($first + {} % $top))',\"author\":{\"name\":\"Replier {}\",\"email\":\"p{}@example.com\"}}'"
    echo "[isso-read] seeded $key: $(sqlite3 "$dir/bench.db" "SELECT count(*) FROM comments c JOIN articles a ON a.id = c.article_id WHERE a.key = '$key'") comments" >&2
}

started=$(date +%s)
seed /bench/small/ 200
seed /bench/large/ 10000
echo "[isso-read] seeding: $(($(date +%s) - started)) s" >&2

echo "| read | requests/s | p50 | p99 | answer bytes |"
echo "|---|---:|---:|---:|---:|"
measure() { # label path
    local size out
    size=$(curl -sf "$base$2" | wc -c)
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$base$2")
    printf '| %s | %s | %s | %s | %s |\n' "$1" \
        "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$size"
}
for size in small large; do
    key="%2Fbench%2F$size%2F"
    measure "$size: JSON API, first 50" "/api/v1/articles/$key/comments"
    measure "$size: Isso, the client's default (all top-level, 5 replies each)" "/isso/?uri=$key&sort=oldest&offset=0&nested_limit=5"
    measure "$size: Isso, 10 top-level, 5 replies each" "/isso/?uri=$key&limit=10&nested_limit=5"
done
