#!/usr/bin/env bash
# Isso's JavaScript client, for the browser test of Moderato's Isso API
# (tests/browser/isso.test.mjs): the isso 0.14.0 source distribution from
# PyPI (checked against its SHA-256), cached under target/, with its
# isso/js/embed.min.js and isso/css/isso.css extracted. Nothing of it goes
# into the repository. Idempotent: quick when the files are there already.
# Prints the path of embed.min.js, for MODERATO_ISSO_JS:
#
#   export MODERATO_ISSO_JS="$(.ci/isso-setup.sh)"
#
# Needs pip (python3 -m pip) and tar. Messages go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.14.0
sha256=9e2ac090f49aeb8e33871280fcf9680e0ec68dcca50b5ef72e5f275df623c9e5
cache="${CARGO_TARGET_DIR:-$PWD/target}/isso-$version"
sdist="$cache/isso-$version.tar.gz"
js="$cache/isso/js/embed.min.js"
css="$cache/isso/css/isso.css"

if [ ! -f "$js" ] || [ ! -f "$css" ]; then
    mkdir -p "$cache"
    if [ ! -f "$sdist" ]; then
        echo "isso-setup: downloading isso $version from PyPI" >&2
        # The source distribution: it carries the built client.
        python3 -m pip download "isso==$version" --no-deps --no-binary isso \
            --disable-pip-version-check -q -d "$cache" >&2
    fi
    if ! echo "$sha256  $sdist" | sha256sum --check --quiet >&2; then
        echo "isso-setup: $sdist does not have the expected SHA-256; removed" >&2
        rm -f "$sdist"
        exit 1
    fi
    tar xzf "$sdist" -C "$cache" --strip-components=1 \
        "isso-$version/isso/js/embed.min.js" "isso-$version/isso/css/isso.css"
fi
echo "$js"
