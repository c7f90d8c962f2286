#!/usr/bin/env bash
# The PHP extension's tests, from a fresh Debian 12 machine (as root):
# installs what it needs, builds modules/smtpcore.so at the repository root
# (phpize && ./configure && make), starts the private test MTA
# (tests/servers/mta.py), runs `make test TESTS=tests/php` with the MTA's
# description in $SMTPCORE_TEST_MTA, stops the MTA and exits with the test
# status.
#
#   bash tests/php/run.sh              # normal run
#   bash tests/php/run.sh --valgrind   # every test under valgrind memcheck
#                                      # (run-tests -m, USE_ZEND_ALLOC=0)
#
# Results: tests/output/php-junit.xml (JUnit) and tests/output/php-tests.log;
# the last line is "N passed, N failed, N skipped".
set -uo pipefail

mode=normal
case "${1:-}" in
    "") ;;
    --valgrind) mode=valgrind ;;
    *) echo "usage: $0 [--valgrind]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/tests/output"
mkdir -p "$out"
started=$(date +%s)

# ------------------------------------------------------------ dependencies
packages=(build-essential pkg-config libssl-dev libidn2-dev php8.2-dev php8.2-cli
          postfix dovecot-core openssl ca-certificates python3)
[ "$mode" = valgrind ] && packages+=(valgrind)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The test MTA runs private instances; the system Postfix stays unconfigured.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"; } >"$out/php-apt.log" 2>&1 ||
        { tail -n 30 "$out/php-apt.log"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# ------------------------------------------------------------------ build
echo "== build (phpize && ./configure && make)"
if ! { phpize && ./configure && make -j"$(nproc)"; } >"$out/php-build.log" 2>&1; then
    tail -n 40 "$out/php-build.log"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
echo "   modules/smtpcore.so built in $(($(date +%s) - started)) s"

# --------------------------------------------------------------- test MTA
mta_dir=$(mktemp -d /tmp/scphp.XXXXXX)   # short: unix socket paths live under it
mta_pid=
stop_mta() {
    if [ -n "$mta_pid" ] && kill -0 "$mta_pid" 2>/dev/null; then
        kill -TERM "$mta_pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$mta_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$mta_pid" 2>/dev/null
    fi
    mta_pid=
    rm -rf "$mta_dir"
}
trap stop_mta EXIT
trap 'exit 130' INT TERM

echo "== test MTA (Postfix + Dovecot on 127.0.0.1)"
/usr/bin/python3 tests/servers/mta.py serve --workdir "$mta_dir/w" >"$mta_dir/info.json" 2>"$mta_dir/mta.err" &
mta_pid=$!
for _ in $(seq 600); do
    [ -s "$mta_dir/info.json" ] && break
    kill -0 "$mta_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -s "$mta_dir/info.json" ]; then
    SMTPCORE_TEST_MTA=$(head -n 1 "$mta_dir/info.json")
    export SMTPCORE_TEST_MTA
else
    echo "   the test MTA did not start; live tests will be skipped:"
    tail -n 20 "$mta_dir/mta.err" | sed 's/^/   /'
    unset SMTPCORE_TEST_MTA
fi

# ------------------------------------------------------------------ tests
tests=tests/php
if [ "$mode" = valgrind ]; then
    # run-tests -m: each test under valgrind memcheck with USE_ZEND_ALLOC=0
    # (every emalloc is a malloc valgrind sees). Definite and indirect leaks
    # are errors. The fault server (Python) the tests start is not traced.
    # PCRE's JIT code reads 16 bytes at a time past the end of subject
    # strings (valgrind's well-known false positive): tests run without it,
    # so no suppressions are needed.
    tests="-m -d pcre.jit=0 tests/php"
    export VALGRIND_OPTS="--leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --num-callers=30 --trace-children-skip=*python*,*/sh,*/bash"
fi
echo "== make test TESTS=\"$tests\" ($mode)"
rm -f "$out/php-junit.xml"
NO_INTERACTION=1 REPORT_EXIT_STATUS=1 TEST_PHP_JUNIT="$out/php-junit.xml" \
    make test TESTS="$tests" PHP_TEST_SHARED_EXTENSIONS="-d extension=$root/modules/smtpcore.so" \
    >"$out/php-tests.log" 2>&1
status=$?
grep -E '^(TEST|PASS|FAIL|SKIP|LEAK|BORK|WARN)|^Tests |^Time taken' "$out/php-tests.log" |
    sed -E 's/\x1b\[[0-9;]*m//g; s/^TEST [0-9]+\/[0-9]+ \[[^]]*\]//'
stop_mta

# "N passed, N failed, N skipped" from the JUnit file (errors count as failed).
summary=$(sed -n '0,/<testsuites /s/.*<testsuites [^>]*tests="\([0-9]*\)" failures="\([0-9]*\)" errors="\([0-9]*\)" skip="\([0-9]*\)".*/\1 \2 \3 \4/p' \
          "$out/php-junit.xml" 2>/dev/null)
if [ -n "$summary" ]; then
    read -r total failures errors skipped <<<"$summary"
    failed=$((failures + errors))
    passed=$((total - failed - skipped))
else
    passed=0 failed=1 skipped=0
    tail -n 40 "$out/php-tests.log"
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1 # e.g. a leak only the exit status shows
echo "   $(($(date +%s) - started)) s in all; log: tests/output/php-tests.log, JUnit: tests/output/php-junit.xml"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
