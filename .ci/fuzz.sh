#!/usr/bin/env bash
# Fuzzing: runs every cargo-fuzz target in tests/fuzz for a short time each
# and fails if any of them finds a crash (a panic, a failed property, a hang
# over FUZZ_UNIT_TIMEOUT seconds or an out-of-memory).
#
#   .ci/fuzz.sh [SECONDS_PER_TARGET]     # default 20
#
# Environment (all optional):
#   FUZZ_TARGETS        space-separated subset of targets (default: all)
#   FUZZ_SANITIZER      none (default) or address; address is slower to build
#                       and to run, and only adds checks of unsafe code
#   FUZZ_CODEGEN_UNITS  rustc codegen units for the fuzz build (default 16:
#                       a much faster build than cargo-fuzz's 1, slightly
#                       slower targets)
#   FUZZ_UNIT_TIMEOUT   seconds one input may take before it counts as a
#                       hang (default 10)
#
# The targets are written to tests/fuzz/artifacts/<target>/ when one fails;
# reproduce with the command the log prints. Longer runs by hand:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz --sanitizer none \
#       --codegen-units 16 render -- -max_total_time=600
#
# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-20}"
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi
sanitizer="${FUZZ_SANITIZER:-none}"
codegen_units="${FUZZ_CODEGEN_UNITS:-16}"
unit_timeout="${FUZZ_UNIT_TIMEOUT:-10}"
fuzz_dir=tests/fuzz
logs="$fuzz_dir/target/logs"
export RUSTC_BOOTSTRAP=1

step() { printf '\n== %s ==\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    step "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

build_opts=(--fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" --codegen-units "$codegen_units")

if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "no fuzz targets found in $fuzz_dir" >&2
    exit 1
fi

step "cargo fuzz build (sanitizer $sanitizer, codegen units $codegen_units)"
build_start=$SECONDS
cargo fuzz build "${build_opts[@]}"
echo "build took $((SECONDS - build_start)) s"

mkdir -p "$logs"
passed=0
failed=()
summary=()
total_execs=0
for target in "${targets[@]}"; do
    step "fuzz $target for $secs s"
    corpus="$fuzz_dir/corpus/$target"
    mkdir -p "$corpus"
    if [[ -d "$fuzz_dir/seeds/$target" ]]; then
        cp -f "$fuzz_dir/seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    log="$logs/$target.log"
    run_start=$SECONDS
    status=ok
    if ! cargo fuzz run "${build_opts[@]}" "$target" "$corpus" -- \
        -max_total_time="$secs" -timeout="$unit_timeout" -print_final_stats=1 \
        >"$log" 2>&1; then
        status=FAILED
    fi
    took=$((SECONDS - run_start))
    # libFuzzer's closing statistics; after a crash, the last status line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [[ -z "$execs" ]]; then
        execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p; s/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
    fi
    execs="${execs:-0}"
    total_execs=$((total_execs + execs))
    line="$target: $execs executions in $took s ($status)"
    echo "$line"
    summary+=("$line")
    if [[ "$status" == ok ]]; then
        passed=$((passed + 1))
    else
        failed+=("$target")
        echo "---- $log (libFuzzer progress lines left out) ----"
        grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)|NEW_FUNC' "$log" | tail -n 120
        echo "----"
    fi
done

step "summary"
printf '%s\n' "${summary[@]}"
echo "fuzz examples run: $total_execs (${#targets[@]} targets x $secs s)"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashes found by: ${failed[*]} (inputs in $fuzz_dir/artifacts/)"
fi
echo "fuzz: $passed passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
