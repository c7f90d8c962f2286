#!/usr/bin/env bash
# Static analysis of the C core: clang-tidy (configuration: .clang-tidy at the
# root) and cppcheck (suppressions: tests/static/cppcheck-suppressions.txt) over
# every .c file under csrc/. Installs both from Debian's packages if missing
# (clang-tidy 14 and cppcheck 2.10 on Debian 12).
#
#   scripts/static-analysis.sh                 # everything (about 1-2 minutes on 2 cores)
#   scripts/static-analysis.sh csrc/smtp/*.c   # only these files
#
# Every enabled clang-tidy check is an error. Each (tool, file) pair is one
# check: a file passes clang-tidy when clang-tidy reports nothing for it, and
# passes cppcheck when no cppcheck finding names it. Findings are printed with
# their file:line; the last line is "N passed, N failed"; the exit status is
# non-zero when anything failed.
#
# A false positive is suppressed where it occurs, with the check's name and the
# reason: /* ... NOLINTNEXTLINE(check) */ for clang-tidy, a line with a reason in
# tests/static/cppcheck-suppressions.txt (or // cppcheck-suppress id) for cppcheck.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)
build="$root/build/tidy"
logs="$build/logs"
jobs=$(nproc 2>/dev/null || echo 2)

# --- tools -----------------------------------------------------------------
need=()
command -v clang-tidy >/dev/null 2>&1 || command -v clang-tidy-14 >/dev/null 2>&1 || need+=(clang-tidy)
command -v cppcheck >/dev/null 2>&1 || need+=(cppcheck)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" ||
        { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
          apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"; }; } >/dev/null ||
        { echo "FAIL install: could not install ${need[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi
# The configuration is written for clang-tidy 14 (Debian 12); prefer it when
# several versions are installed, since newer ones add checks to the globs.
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
echo "== $($tidy --version | grep -m1 -i version | sed 's/^ *//'), $(cppcheck --version)"

# --- files -----------------------------------------------------------------
if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(find csrc -name '*.c' | LC_ALL=C sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "no C files"; echo "0 passed, 1 failed"; exit 1; }

# --- compile_commands.json ---------------------------------------------------
# The same flags as the real build (-D_POSIX_C_SOURCE, -I, -std=c11, -W...), so
# clang-tidy sees what the compiler sees; the library and the CLI are enough.
mkdir -p "$build"
if ! cmake -S "$root" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DSMTPCORE_TESTS=OFF \
        -DSMTPCORE_FUZZ=OFF -DSMTPCORE_SANITIZE=OFF >"$build.log" 2>&1; then
    # Most likely the build dependencies (OpenSSL, libidn2) are missing.
    bash scripts/install-deps.sh >>"$build.log" 2>&1
    if ! cmake -S "$root" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DSMTPCORE_TESTS=OFF \
            -DSMTPCORE_FUZZ=OFF -DSMTPCORE_SANITIZE=OFF >>"$build.log" 2>&1; then
        echo "FAIL cmake: could not generate compile_commands.json (see $build.log)"
        tail -n 20 "$build.log"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
rm -rf "$logs"
mkdir -p "$logs/tidy"

# --- cppcheck (in the background: it is mostly one long file, encoders.c) ----
# No -D: cppcheck then tries each #ifdef configuration of a file by itself.
cppcheck_out="$logs/cppcheck.txt"
cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --std=c11 \
    -I csrc/include -I csrc --library=posix --library=openssl \
    --suppressions-list=tests/static/cppcheck-suppressions.txt \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    -j "$jobs" --quiet "${files[@]}" >"$cppcheck_out" 2>&1 &
cppcheck_pid=$!

# --- clang-tidy ---------------------------------------------------------------
# One file per clang-tidy process: clang-tidy 14 reports false
# clang-analyzer-valist.Uninitialized errors for every file after the first
# when given several at once.
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} sh -c '
    f=$1; log=$2/$(echo "$f" | tr / _).log
    "$3" -p "$4" --quiet "$f" >"$log" 2>&1
    echo $? >"$log.rc"' sh {} "$logs/tidy" "$tidy" "$build"

wait "$cppcheck_pid"
cppcheck_rc=$?

# --- report -----------------------------------------------------------------
passed=0 failed=0
echo "== clang-tidy"
for f in "${files[@]}"; do
    log="$logs/tidy/$(echo "$f" | tr / _).log"
    rc=$(cat "$log.rc" 2>/dev/null || echo 99)
    if [ "$rc" = 0 ] && ! grep -qE '(warning|error):' "$log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL clang-tidy $f (exit $rc)"
        # The findings with their notes and code, without the summary lines.
        grep -vE '^[0-9]+ (warnings?|errors?) (generated|treated as errors)|^Suppressed [0-9]+ warnings' "$log" |
            grep -vE '^Use -header-filter|^Error while processing' | sed 's/^/    /'
    fi
done

echo "== cppcheck"
for f in "${files[@]}"; do
    if grep -qF "$f:" "$cppcheck_out"; then
        failed=$((failed + 1))
        echo "FAIL cppcheck $f"
        grep -A2 -F "$f:" "$cppcheck_out" | sed 's/^/    /'
    else
        passed=$((passed + 1))
    fi
done
# A finding in a header, or cppcheck itself failing, is not tied to a file above.
other=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: ' "$cppcheck_out" | grep -vF -f <(printf '%s:\n' "${files[@]}"))
if [ -n "$other" ] || { [ "$cppcheck_rc" -ne 0 ] && ! grep -qE '^[^ ]+:[0-9]+:[0-9]+: ' "$cppcheck_out"; }; then
    failed=$((failed + 1))
    echo "FAIL cppcheck (exit $cppcheck_rc)"
    if [ -n "$other" ]; then echo "$other" | sed 's/^/    /'; else sed 's/^/    /' "$cppcheck_out"; fi
fi

echo "== static analysis took $(($(date +%s) - started)) s (${#files[@]} files, clang-tidy and cppcheck)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
