#!/usr/bin/env bash
# Runs each libFuzzer target briefly, starting from its committed corpus.
# Needs clang (with libFuzzer: libclang-rt-dev); without it, says so and
# exits 0 (the corpus replay in ctest covers gcc builds).
#
#   tests/fuzz/run.sh [TARGET...]
#
# FUZZ_SECONDS  time per target (default 10); FUZZ_RUNS caps executions instead
# FUZZ_BUILD    build directory (default build-fuzz)
# New inputs go to a temporary directory, never into the committed corpus. A
# crash prints the reproducer's path; copy it into tests/fuzz/corpus/<target>/
# (named crash-<what>) once the bug is fixed, so the replay keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/../.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_response fuzz_ini fuzz_sign fuzz_validate)
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found, skipping the fuzzers (the corpus replay runs in ctest)"
    exit 0
fi
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-10}
jobs=$(nproc 2>/dev/null || echo 2)

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACMPCA_FUZZ=ON \
    -DACMPCA_EXAMPLES=OFF -DACMPCA_LUA=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "$work/artifacts-$t"
    limit=(-max_total_time="$seconds")
    [ -z "${FUZZ_RUNS:-}" ] || limit=(-runs="$FUZZ_RUNS")
    echo "== fuzz: $t (${FUZZ_RUNS:+$FUZZ_RUNS runs}${FUZZ_RUNS:-$seconds s})"
    if ! "$build/fuzz/$t" "${limit[@]}" -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts-$t/" "$work/$t" "tests/fuzz/corpus/$t" \
            >"$work/$t.log" 2>&1; then
        tail -n 60 "$work/$t.log"
        keep=$(mktemp -d "${TMPDIR:-/tmp}/acmpca-fuzz-$t.XXXXXX")
        cp -r "$work/artifacts-$t/." "$keep/"
        echo "fuzz: $t FAILED; reproducer(s) kept in $keep:"
        ls -l "$keep"
        status=1
        continue
    fi
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$work/$t.log" || true
done
exit $status
