#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan into build/fuzz, and runs each one, one after the other, for a while.
#
#   scripts/fuzz.sh              # 30 seconds per target (the quick check, ~2.5 minutes for 4 targets)
#   scripts/fuzz.sh 120          # 2 minutes per target
#   scripts/fuzz.sh --long 600   # the 10-minute runs: 600 seconds per target
#   scripts/fuzz.sh 60 fuzz_engine fuzz_reply   # only these targets
#
# Each target runs over a COPY of its seed corpus tests/fuzz/corpus/<name>/
# (fuzz_reply -> reply/), kept in build/fuzz/corpus-work/<name>/, so the tree is
# never modified; inputs found in earlier runs stay there and later runs start
# from them (rm -rf build/fuzz/corpus-work for a fresh start). To keep the
# new inputs that add coverage, merge them into the seeds by hand, e.g.:
#
#   build/fuzz/fuzz_engine -merge=1 tests/fuzz/corpus/engine build/fuzz/corpus-work/engine
#
# (the engine seeds are generated: tests/fuzz/make_engine_seeds.py rewrites
# tests/fuzz/corpus/{engine,reply,body}/, so merged files would be lost on the
# next regeneration; give the useful ones a readable form in the generator).
#
# A crash, leak, sanitizer report, timeout (-timeout=10) or memory blow-up
# (-rss_limit_mb=2048) leaves its input in build/fuzz/artifacts/<target>/;
# replay it with `build/fuzz/<target> <file>` (FUZZ_ENGINE_VERBOSE=1 prints the
# engine's transcript). Targets run with libFuzzer's default single in-process
# job (the "-jobs=1" setting): -jobs=N would fork workers and log to files.
#
# Prints one line per target, "ok <target>: N runs, cov X" or
# "FAIL <target>: crash, artifact at <path>", then "N passed, N failed";
# exits non-zero if any target failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

secs=30
if [ "${1:-}" = "--long" ]; then
    secs=${2:-600}
    shift 2 2>/dev/null || shift
elif [ -n "${1:-}" ] && [ "${1#[0-9]}" != "$1" ]; then
    secs=$1
    shift
fi
case "$secs" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET | --long SECONDS] [fuzz_target...]" >&2; exit 2 ;;
esac

build="$root/build/fuzz"
log="$build.log"
mkdir -p "$build"
if ! { cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSMTPCORE_FUZZ=ON -DSMTPCORE_TESTS=OFF >"$log" 2>&1; }; then
    echo "FAIL build: cmake configuration failed (see $log)"
    tail -n 20 "$log"
    echo "0 passed, 1 failed"
    exit 1
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in "$root"/tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$src" .c)")
    done
fi
if ! cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >>"$log" 2>&1; then
    echo "FAIL build: compilation failed (see $log)"
    grep -E 'error|undefined reference' "$log" | head -n 20
    echo "0 passed, 1 failed"
    exit 1
fi

# Longest input per target: replies need room for lines over the
# 4096-byte limit and for many-line replies; sessions for a long line too.
max_len_for() {
    case "$1" in
        fuzz_reply) echo 16384 ;;
        fuzz_engine) echo 8192 ;;
        fuzz_body) echo 4096 ;;
        fuzz_sasl) echo 4096 ;;
        *) echo 4096 ;;
    esac
}

passed=0 failed=0
for t in "${targets[@]}"; do
    name=${t#fuzz_}
    bin="$build/$t"
    seeds="$root/tests/fuzz/corpus/$name"
    work="$build/corpus-work/$name"
    art="$build/artifacts/$t"
    out="$build/$t.log"
    if [ ! -x "$bin" ]; then
        echo "FAIL $t: not built"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work" "$art"
    [ -d "$seeds" ] && cp -f "$seeds"/* "$work"/ 2>/dev/null
    # Artifacts from an earlier run would be mistaken for new ones.
    find "$art" -type f -delete
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$secs" -max_len="$(max_len_for "$t")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" "$work" >"$out" 2>&1
    rc=$?
    runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$out" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$out" | sed -nE 's/.* cov: ([0-9]+) .*/\1/p' | tail -n 1)
    artifact=$(find "$art" -type f | head -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ]; then
        echo "ok $t: ${runs:-0} runs, cov ${cov:-?}"
        passed=$((passed + 1))
    else
        kind=crash
        grep -q 'ERROR: libFuzzer: timeout' "$out" && kind=timeout
        grep -q 'ERROR: libFuzzer: out-of-memory' "$out" && kind=out-of-memory
        grep -q 'ERROR: LeakSanitizer' "$out" && kind=leak
        echo "FAIL $t: $kind, artifact at ${artifact:-(none; see $out)}"
        grep -E 'invariant failed|ERROR: |SUMMARY: |runtime error' "$out" | head -n 5 | sed 's/^/    /'
        echo "    log: $out"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
