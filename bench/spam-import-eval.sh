#!/usr/bin/env bash
# What training through an import (`moderato import wordpress --train`)
# does to `moderato spam eval` on the YouTube Spam Collection (docs/SPAM.md,
# "Training from an import"). Each file is written as a WordPress export
# by bench/youtube-to-wxr.py (ham approved, spam as spam), imported with
# --train into a fresh SQLite database, and `spam eval --database` scores
# the test comments with the model the import taught.
#
#   bench/spam-import-eval.sh [MODERATO_BINARY]   (default target/release/moderato)
#
# Needs ../shared/data/youtube-spam. Prints one `eval:` line per run.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-${CARGO_TARGET_DIR:-target}/release/moderato}"
data=../shared/data/youtube-spam
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export MODERATO_LOG__LEVEL=warn

declare -A file=([Psy]=Youtube01-Psy.csv [KatyPerry]=Youtube02-KatyPerry.csv [LMFAO]=Youtube03-LMFAO.csv)
names=(Psy KatyPerry LMFAO)

others() {
    for n in "${names[@]}"; do [[ $n == "$1" ]] || echo "$data/${file[$n]}"; done
}

# A fresh database that learned FILES.xml through an import with --train.
taught() {
    local db="$work/$1.db"
    shift
    rm -f "$db"*
    "$bin" import wordpress "$@" --train --database "sqlite://$db" >/dev/null 2>&1
    echo "sqlite://$db"
}

for test in "${names[@]}"; do
    mapfile -t rest < <(others "$test")
    python3 bench/youtube-to-wxr.py "${rest[@]}" >"$work/others.xml"
    python3 bench/youtube-to-wxr.py --part first-half "$data/${file[$test]}" >"$work/history.xml"
    python3 bench/youtube-to-wxr.py --part second-half --tsv "$data/${file[$test]}" >"$work/later.tsv"
    python3 bench/youtube-to-wxr.py --part first-half --tsv "$data/${file[$test]}" >"$work/history.tsv"

    echo "== $test, trained on the other two files"
    printf 'from the CSV files:  '
    "$bin" spam eval --train "${rest[@]}" --test "$data/${file[$test]}" | tail -1
    printf 'through an import:   '
    "$bin" spam eval --database "$(taught rotation "$work/others.xml")" \
        --test "$data/${file[$test]}" | tail -1

    echo "== $test's second half, after its own first half"
    printf 'other files only:              '
    "$bin" spam eval --train "${rest[@]}" --test "$work/later.tsv" | tail -1
    printf 'own history, imported:         '
    "$bin" spam eval --database "$(taught own "$work/history.xml")" \
        --test "$work/later.tsv" | tail -1
    printf 'own history, from the TSV:     '
    "$bin" spam eval --train "$work/history.tsv" --test "$work/later.tsv" | tail -1
    printf 'own imported + other files:    '
    "$bin" spam eval --database "$(taught both "$work/history.xml")" --train "${rest[@]}" \
        --test "$work/later.tsv" | tail -1
done
