#!/usr/bin/env bash
# Runs every smtpcore test: installs what it needs, builds with warnings as
# errors, runs the C unit tests (plain and under ASan+UBSan), and the
# integration tests against a private Postfix + Dovecot and the fault server.
# Ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/tests/output"
mkdir -p "$out" "$root/build"

bash scripts/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

PY=/usr/bin/python3
passed=0 failed=0 skipped=0
add_counts() { # "N passed, N failed" lines from a log
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
}
fail_suite() { echo "FAILED: $1"; failed=$((failed + 1)); }

build() { # dir, extra cmake args...
    local dir=$1; shift
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMTPCORE_WERROR=ON "$@" >"$dir.log" 2>&1 &&
        cmake --build "$dir" -j "$(nproc)" >>"$dir.log" 2>&1
}

run_unit() { # build dir, label, [wrapper command...]
    local dir=$1 label=$2 t log rc
    shift 2
    for t in "$dir"/test_*; do
        [ -x "$t" ] || continue
        log="$out/$label-$(basename "$t").log"
        "$@" "$t" >"$log" 2>&1
        rc=$?
        if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
            add_counts "$log"
            # A clean count with a failing exit is a sanitizer or valgrind finding.
            if [ "$rc" -ne 0 ] && grep -qE '^[0-9]+ passed, 0 failed' "$log"; then
                fail_suite "$label $(basename "$t") (exit $rc)"
            fi
        else
            fail_suite "$label $(basename "$t") (crashed, exit $rc)"
        fi
        if [ "$rc" -ne 0 ]; then
            echo "FAILED: $label $(basename "$t")"
            grep -v '^ok ' "$log" | tail -n 40 | sed 's/^/    /'
        fi
    done
}

echo "== build (gcc, -Werror)"
if build "$root/build/ci"; then
    echo "== C unit tests"
    run_unit "$root/build/ci" unit
else
    fail_suite "build"; tail -n 50 "$root/build/ci.log"
fi

echo "== C unit tests under valgrind memcheck"
if [ -x "$root/build/ci/test_engine" ]; then
    SMTPCORE_TEST_SLOW=1 run_unit "$root/build/ci" valgrind valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
fi

echo "== C unit tests under ASan+UBSan"
if build "$root/build/asan" -DSMTPCORE_SANITIZE=ON; then
    SMTPCORE_TEST_SLOW=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_unit "$root/build/asan" asan
else
    fail_suite "sanitizer build"; tail -n 50 "$root/build/asan.log"
fi

echo "== static analysis (clang-tidy, cppcheck; one check per tool and file)"
bash scripts/static-analysis.sh >"$out/static-analysis.log" 2>&1
sa_rc=$?
if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$out/static-analysis.log"; then
    add_counts "$out/static-analysis.log"
    if [ "$sa_rc" -ne 0 ] && grep -qE '^[0-9]+ passed, 0 failed' "$out/static-analysis.log"; then
        fail_suite "static analysis (exit $sa_rc)"
    fi
else
    fail_suite "static analysis (no summary, exit $sa_rc)"
fi
[ "$sa_rc" -eq 0 ] || grep -vE '^== ' "$out/static-analysis.log" | head -n 80 | sed 's/^/    /'

run_pytest() { # label, CLI path, pytest arguments...
    local label=$1 cli=$2 rc p f sk
    shift 2
    SMTPCORE_CLI="$cli" "$PY" -m pytest -q -p no:cacheprovider --junitxml="$out/$label.xml" "$@" \
        >"$out/$label.log" 2>&1
    rc=$?
    tail -n 30 "$out/$label.log"
    if [ ! -f "$out/$label.xml" ]; then
        fail_suite "$label (no report, exit $rc)"
        return
    fi
    read -r p f sk < <("$PY" - "$out/$label.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(x.get("tests", 0)) for x in suites)
f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
s = sum(int(x.get("skipped", 0)) for x in suites)
print(t - f - s, f, s)
PYEOF
    )
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + sk))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail_suite "$label (pytest exit $rc)"; fi
}

echo "== integration tests (Postfix, Dovecot, fault server)"
if [ -x "$root/build/ci/smtpcore" ]; then
    run_pytest pytest "$root/build/ci/smtpcore" tests/servers tests/faultserver tests/integration
else
    fail_suite "integration tests (no CLI built)"
fi

echo "== fault and attack tests with the ASan+UBSan build of the CLI"
if [ -x "$root/build/asan/smtpcore" ]; then
    ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:exitcode=86 \
        run_pytest pytest-asan "$root/build/asan/smtpcore" tests/integration/test_faults.py \
        tests/integration/test_auth_scripted.py tests/integration/test_session_postfix.py
else
    fail_suite "sanitizer integration tests (no CLI built)"
fi

run_suite() { # label, command...: a script that ends with "N passed, N failed[, N skipped]"
    local label=$1 rc line p f sk
    shift
    "$@" >"$out/$label.log" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$label.log" | tail -n 1)
    if [ -z "$line" ]; then
        fail_suite "$label (no summary, exit $rc)"; tail -n 40 "$out/$label.log" | sed 's/^/    /'
        return
    fi
    echo "   $label: $line"
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    sk=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${sk:-0}))
    if [ "$rc" -ne 0 ]; then
        [ "$f" -eq 0 ] && fail_suite "$label (exit $rc)"
        grep -E 'FAIL|Error|error' "$out/$label.log" | head -n 30 | sed 's/^/    /'
    fi
}

echo "== Python extension (pip install . into a venv, pytest)"
run_suite python bash tests/python/run.sh
run_suite python-asan bash tests/python/run.sh --asan

echo "== PHP extension (.phpt through run-tests.php, then under valgrind)"
run_suite php bash tests/php/run.sh
run_suite php-valgrind bash tests/php/run.sh --valgrind

echo "== WordPress plugin (PHPUnit in a real WordPress, headless Chromium)"
run_suite wordpress bash tests/wordpress/run.sh

echo "== fuzz targets (${SMTPCORE_FUZZ_SECONDS:-20} s each; scripts/fuzz.sh --long 600 for the long runs)"
bash scripts/fuzz.sh "${SMTPCORE_FUZZ_SECONDS:-20}" >"$out/fuzz.log" 2>&1
rc=$?
grep -E '^(ok|FAIL) ' "$out/fuzz.log"
if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$out/fuzz.log"; then
    add_counts "$out/fuzz.log"
    if [ "$rc" -ne 0 ] && grep -qE '^[0-9]+ passed, 0 failed' "$out/fuzz.log"; then fail_suite "fuzz (exit $rc)"; fi
else
    fail_suite "fuzz (no summary, exit $rc)"; tail -n 30 "$out/fuzz.log"
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
