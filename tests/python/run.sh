#!/usr/bin/env bash
# Runs the Python binding's tests. As root on a fresh Debian 12: installs what they need (Debian packages,
# a venv in build/venv with the system site-packages for pytest and dkimpy, `pip install .`), then runs
# pytest over tests/python with a JUnit report in tests/output/python.xml. Exits with pytest's code.
# The tests do not use the smtpcore CLI (SMTPCORE_CLI may be set or not).
set -uo pipefail

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
# One closing line the project's test command can count.
/usr/bin/python3 - tests/output/python.xml "$status" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 passed, 1 failed")
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(x.get("tests", 0)) for x in suites)
f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
s = sum(int(x.get("skipped", 0)) for x in suites)
if int(sys.argv[2]) != 0 and f == 0:
    f = 1
print("%d passed, %d failed, %d skipped" % (t - f - s, f, s))
PYEOF
exit $status
