#!/usr/bin/env bash
# Runs every smtpcore test: installs what it needs, builds with warnings as
# errors, runs the C unit tests (plain and under ASan+UBSan), and the
# integration tests against a private Postfix + Dovecot and the fault server.
# Ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/tests/output"
mkdir -p "$out"

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

run_unit() { # build dir, label
    local dir=$1 label=$2 t log
    for t in "$dir"/test_*; do
        [ -x "$t" ] || continue
        log="$out/$label-$(basename "$t").log"
        if "$t" >"$log" 2>&1; then :; else echo "FAILED: $label $(basename "$t")"; sed 's/^/    /' "$log" | grep -v '^    ok ' | tail -n 40; fi
        grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || fail_suite "$label $(basename "$t") (crashed)"
        add_counts "$log"
    done
}

echo "== build (gcc, -Werror)"
if build "$root/build/ci"; then
    echo "== C unit tests"
    run_unit "$root/build/ci" unit
else
    fail_suite "build"; tail -n 50 "$root/build/ci.log"
fi

echo "== C unit tests under ASan+UBSan"
if build "$root/build/asan" -DSMTPCORE_SANITIZE=ON; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_unit "$root/build/asan" asan
else
    fail_suite "sanitizer build"; tail -n 50 "$root/build/asan.log"
fi

echo "== integration tests (Postfix, Dovecot, fault server)"
if [ -x "$root/build/ci/smtpcore" ]; then
    SMTPCORE_CLI="$root/build/ci/smtpcore" "$PY" -m pytest -q -p no:cacheprovider \
        --junitxml="$out/pytest.xml" tests/servers tests/faultserver tests/integration >"$out/pytest.log" 2>&1
    rc=$?
    tail -n 30 "$out/pytest.log"
    if [ -f "$out/pytest.xml" ]; then
        read -r p f s < <("$PY" - "$out/pytest.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(x.get("tests", 0)) for x in suites)
f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
s = sum(int(x.get("skipped", 0)) for x in suites)
print(t - f - s, f, s)
PYEOF
        )
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail_suite "pytest exited $rc"
    else
        fail_suite "pytest (no report)"
    fi
else
    fail_suite "integration tests (no CLI built)"
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
