#!/usr/bin/env bash
# Browser-test tooling: Debian's chromium (Playwright's own browser download
# cannot reach its host here) and the pinned npm packages of tests/browser
# (playwright-core, @axe-core/playwright). Idempotent and quick when both are
# already there. Runs as root on Debian; prints how long each step took.
#
#   .ci/browser-setup.sh
#
# MODERATO_CHROMIUM overrides the browser path (then nothing is installed
# from apt if that file exists).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${MODERATO_CHROMIUM:-/usr/bin/chromium}"

timed() {
    local label="$1" start
    shift
    start=$EPOCHREALTIME
    "$@"
    awk -v l="$label" -v a="$start" -v b="$EPOCHREALTIME" \
        'BEGIN { printf "browser-setup: %-26s %6.1f s\n", l, b - a }'
}

if [ -x "$chromium" ]; then
    echo "browser-setup: $chromium present, skipping apt-get"
else
    export DEBIAN_FRONTEND=noninteractive
    timed "apt-get update" apt-get update -qq
    # --no-install-recommends: chromium's recommends (chromium-common's
    # upower, udev, mesa, fonts-liberation, notification-daemon, printer
    # config) are not needed headless; text renders with fonts-dejavu-core,
    # which the machine image has.
    install_chromium() {
        apt-get install -y -qq --no-install-recommends chromium >/dev/null
    }
    timed "apt-get install chromium" install_chromium
fi
# Debian's /usr/bin/chromium wrapper prints "[: ...: unexpected operator"
# where findmnt lists /dev/shm twice (harmless: it only decides whether to
# add --disable-dev-shm-usage, which Playwright passes anyway).
chromium_version() {
    local out
    out=$("$chromium" --version 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    printf '%s\n' "$out" | grep -v 'unexpected operator'
}
timed "chromium --version" chromium_version

cd tests/browser
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp="node_modules/.moderato-lock-sha256"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
    echo "browser-setup: node_modules matches package-lock.json, skipping npm ci"
else
    timed "npm ci" npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
fi
