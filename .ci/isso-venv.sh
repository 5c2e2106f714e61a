#!/usr/bin/env bash
# Isso itself, the server, for .ci/import-check.py to make a real Isso
# database with: the isso 0.14.0 package from PyPI installed into a
# virtual environment under target/ (nothing of it goes into the
# repository). Idempotent: quick when it is installed already. Prints the
# path of the `isso` executable. Needs python3 with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.14.0
venv="${CARGO_TARGET_DIR:-$PWD/target}/isso-venv-$version"
if ! "$venv/bin/isso" --version 2>/dev/null | grep -q "$version"; then
    echo "isso-venv: installing isso $version from PyPI into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --disable-pip-version-check -q "isso==$version" >&2
fi
echo "$venv/bin/isso"
