#!/usr/bin/env bash
# Installs what building and testing smtpcore needs, from Debian 12's packages.
# Idempotent: does nothing when everything is there already.
set -euo pipefail

packages=(
    build-essential cmake pkg-config libssl-dev libidn2-dev openssl ca-certificates
    clang libclang-rt-14-dev valgrind
    python3 python3-dev python3-venv python3-setuptools python3-wheel python3-pytest python3-dkim
    postfix dovecot-core
    iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; our tests run private instances, so
# the system one stays unconfigured.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
