#!/usr/bin/env bash
# Runs the Python binding's tests. As root on a fresh Debian 12: installs what they need (Debian packages,
# a venv in build/venv with the system site-packages for pytest and dkimpy, `pip install .`), then runs
# pytest over tests/python with a JUnit report in tests/output/python.xml. Exits with pytest's code.
# The tests do not use the smtpcore CLI (SMTPCORE_CLI may be set or not).
#
# --asan: the same tests against the extension built with ASan+UBSan (gcc), in build/venv-asan, with a
# JUnit report in tests/output/python-asan.xml and the sanitizers' reports in tests/output/python-asan/;
# fails on any sanitizer report, even when pytest passed. See run_asan below.
set -uo pipefail

mode=plain
case "${1:-}" in
    --asan) mode=asan ;;
    "") ;;
    *) echo "usage: $0 [--asan]"; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mkdir -p tests/output

packages=(
    build-essential pkg-config libssl-dev libidn2-dev openssl ca-certificates
    python3 python3-dev python3-venv python3-pip python3-setuptools python3-wheel
    python3-pytest python3-dkim python3-dbg
    postfix dovecot-core
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix asks how to configure itself; the tests run private instances only.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        { echo "dependency installation failed"; exit 1; }
fi

# One closing line the project's test command can count, from a JUnit report and pytest's exit status.
# With a third argument (processes that left a sanitizer report), each such process counts as one more
# failed test, whatever pytest said.
summary() {
    /usr/bin/python3 - "$@" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
reports = int(sys.argv[3]) if len(sys.argv) > 3 else 0
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 passed, %d failed" % (1 + reports))
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(x.get("tests", 0)) for x in suites)
f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
s = sum(int(x.get("skipped", 0)) for x in suites)
if int(sys.argv[2]) != 0 and f == 0 and reports == 0:  # (LeakSanitizer also sets the exit status)
    f = 1
print("%d passed, %d failed, %d skipped" % (t - f - s, f + reports, s))
PYEOF
}

# The extension built with -fsanitize=address,undefined (gcc) and the whole suite but test_py_leaks.py,
# run by CPython (not instrumented) with gcc's ASan and UBSan runtimes preloaded (ASan's must come first).
#  - PYTHONMALLOC=malloc: every Python object is a malloc block ASan watches, so a reference the binding
#    gives back too early is a heap-use-after-free, not a silent reuse of a pymalloc arena.
#  - LeakSanitizer is on for everything the C core and the binding allocate themselves;
#    tests/python/lsan.supp suppresses only CPython's own allocation paths (and cffi's), says why, and
#    what checks object leaks instead.
#  - Only the Python processes get the runtimes: build/venv-asan/bin/python-asan sets LD_PRELOAD and execs
#    the venv's interpreter under its own name, so sys.executable, and with it every Python child a test
#    starts (`python -m smtpcore`, the sink server), is the wrapper again; smtpcore-asan.pth drops
#    LD_PRELOAD from the environment at start-up, so Postfix, Dovecot, openssl and nm run untouched.
#  - Every process writes its reports to files under tests/output/python-asan/ (log_path), children whose
#    output a test captures included, and LeakSanitizer's at exit; any such file fails the run.
#  - test_py_leaks.py is left out: it measures resident memory, which ASan's quarantine and shadow memory
#    make meaningless, and its refcount check builds its own extension for the debug interpreter. The plain
#    run has both; here LeakSanitizer checks every block the C core and the binding allocate themselves.
# Time here (2 cores): the build about 15 s from scratch, the 231 tests about 25 s (plain: 234 in 27 s).
run_asan() {
    local venv="$root/build/venv-asan" build="$root/build/py-asan" reports="$root/tests/output/python-asan"
    local libasan libubsan lib purelib status count t0
    t0=$(date +%s)
    libasan=$(gcc -print-file-name=libasan.so)
    libubsan=$(gcc -print-file-name=libubsan.so)
    if [ ! -f "$libasan" ] || [ ! -f "$libubsan" ]; then
        echo "gcc's ASan/UBSan runtimes not found ($libasan, $libubsan)"; echo "0 passed, 1 failed"; return 1
    fi
    if [ ! -x "$venv/bin/python" ]; then
        /usr/bin/python3 -m venv --system-site-packages "$venv" || { echo "venv creation failed"; return 1; }
    fi
    # `setup.py build` into a build base of its own: `pip install .` builds in build/ and could reuse the
    # plain objects there.
    CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g" \
    LDFLAGS="-fsanitize=address,undefined" \
        "$venv/bin/python" setup.py -q build --build-base "$build" >tests/output/python-asan-build.log 2>&1 || {
        echo "building the ASan+UBSan extension failed:"; tail -n 40 tests/output/python-asan-build.log
        echo "0 passed, 1 failed"; return 1; }
    lib=$(ls -d "$build"/lib.*/ 2>/dev/null | head -n 1)
    lib=${lib%/}
    if [ -z "$lib" ] || ! nm -D "$lib"/smtpcore/_core*.so 2>/dev/null | grep -c "__asan_init" >/dev/null; then
        echo "no ASan build of the extension in $build"; echo "0 passed, 1 failed"; return 1
    fi
    purelib=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    printf '%s\nimport os; os.environ.pop("LD_PRELOAD", None)\n' "$lib" >"$purelib/smtpcore-asan.pth"
    # The wrapper also notes "pid command line" of each process, to name the one a report comes from.
    printf '#!/bin/bash\n# Written by tests/python/run.sh --asan: the venv'"'"'s python with the ASan and UBSan runtimes.\n[ -n "${SMTPCORE_ASAN_PIDS:-}" ] && echo "$$ $*" >>"$SMTPCORE_ASAN_PIDS"\nLD_PRELOAD="%s %s" exec -a "$0" "%s" "$@"\n' \
        "$libasan" "$libubsan" "$venv/bin/python" >"$venv/bin/python-asan"
    chmod 755 "$venv/bin/python-asan"

    rm -rf "$reports" "$reports.pids"
    mkdir -p "$reports"
    export SMTPCORE_ASAN_PIDS="$reports.pids"
    export PYTHONMALLOC=malloc
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
    export LSAN_OPTIONS="suppressions=$root/tests/python/lsan.supp:print_suppressions=0"
    "$venv/bin/python-asan" -c '
import os, sys, smtpcore._core as core
assert "LD_PRELOAD" not in os.environ, "LD_PRELOAD still set for child processes"
assert os.path.basename(sys.executable) == "python-asan", sys.executable
print("ASan+UBSan build:", core.__file__)' || {
        echo "the ASan+UBSan extension does not load"; echo "0 passed, 1 failed"; return 1; }
    "$venv/bin/python-asan" -m pytest -q -p no:cacheprovider --junitxml=tests/output/python-asan.xml \
        --ignore=tests/python/test_py_leaks.py tests/python
    status=$?
    count=$(find "$reports" -type f | wc -l)
    if [ "$count" -gt 0 ]; then
        echo "sanitizer reports from $count process(es):"
        for f in "$reports"/*; do
            echo "== $f: $(grep -m 1 "^${f##*.} " "$reports.pids" 2>/dev/null | cut -d' ' -f2- | cut -c1-200)"
            head -n 80 "$f"
        done
    fi
    # A report that reached a test's output all the same (a child started with its own ASAN_OPTIONS).
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer" \
        tests/output/python-asan.xml 2>/dev/null; then
        echo "a sanitizer report in the test output (tests/output/python-asan.xml)"
        [ "$count" -gt 0 ] || count=1
    fi
    echo "ASan+UBSan run: $(($(date +%s) - t0)) s"
    summary tests/output/python-asan.xml "$status" "$count"
    [ "$status" -eq 0 ] && [ "$count" -eq 0 ]
}

if [ "$mode" = asan ]; then
    run_asan
    exit $?
fi

venv="$root/build/venv"
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv" || { echo "venv creation failed"; exit 1; }
fi
# Debian's setuptools and wheel, no network needed.
"$venv/bin/pip" install -q --no-build-isolation --disable-pip-version-check "$root" \
    >tests/output/python-install.log 2>&1 || {
    echo "pip install . failed:"; tail -n 40 tests/output/python-install.log; exit 1; }

cd "$root"
"$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml=tests/output/python.xml tests/python
status=$?
summary tests/output/python.xml "$status"
exit $status
