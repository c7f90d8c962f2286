#!/usr/bin/env bash
# The benchmark suite of smtpcore (issue 8), in one command, as root on Debian 12:
#
#     bash bench/run.sh
#
# It installs what it needs from Debian's packages (compiler, CMake, OpenSSL, Postfix
# for smtp-sink, PHP with PHPMailer and Symfony Mailer, aiosmtplib, matplotlib,
# valgrind), builds the C core (cmake Release into build/bench) and the bench programs
# in bench/c, builds the Python extension into build/bench-venv when setup.py exists and
# the PHP extension when config.m4 exists (rows say "not built yet" otherwise), starts its
# own servers on 127.0.0.1, runs every scenario BENCH_REPS times (default 3), and writes
# bench/results/YYYY-MM-DD.md and .png, then prints a summary. About 5-7 minutes.
#
# Environment: BENCH_REPS=N, BENCH_ONLY=S1,S7 (some scenarios only; the report then has
# only those), BENCH_NO_CALLGRIND=1, BENCH_DELAY_US (default 2000 = 2 ms each way),
# BENCH_PIN=same|split|none (CPU placement of servers and clients; default same core).
# Network traffic goes to 127.0.0.1 only. See bench/README.md.
set -euo pipefail
start=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=build/bench
logs=$build/logs
mkdir -p "$build/bin" "$logs"

# --- dependencies ---------------------------------------------------------------
packages=(build-essential cmake pkg-config libssl-dev libidn2-dev openssl ca-certificates
          postfix php-cli php-dev libphp-phpmailer php-symfony-mailer
          python3 python3-venv python3-dev python3-aiosmtplib python3-matplotlib valgrind procps)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Only smtp-sink is used from postfix: the system MTA stays unconfigured.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >"$logs/apt.log" 2>&1 ||
        { tail -20 "$logs/apt.log"; exit 1; }
fi

# --- the C core and the bench programs ------------------------------------------
echo "building the C core (cmake Release, $build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSMTPCORE_TESTS=OFF >"$logs/cmake.log" 2>&1 ||
    { tail -20 "$logs/cmake.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target smtpcore_static >>"$logs/cmake.log" 2>&1 ||
    { tail -20 "$logs/cmake.log"; exit 1; }
cflags=(-O2 -g -Wall -Wextra)
for p in sc_bench limit; do
    gcc "${cflags[@]}" -Icsrc/include -o "$build/bin/$p" "bench/c/$p.c" "$build/libsmtpcore.a" \
        $(pkg-config --libs openssl libidn2) -lpthread
done
gcc "${cflags[@]}" -o "$build/bin/sink" bench/c/sink.c $(pkg-config --libs openssl) -lpthread
gcc "${cflags[@]}" -o "$build/bin/delayproxy" bench/c/delayproxy.c

# A copy of the work tree (tracked and new files, no build output), so that building
# the extensions leaves nothing behind in it (egg-info, phpize output).
copy_tree() {
    rm -rf "$1" && mkdir -p "$1"
    git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
        case "$f" in
            *.o|*.lo|*.la|*.so|*.dep|modules/*|.libs/*|*/.libs/*|*.egg-info/*|autom4te.cache/*) continue ;;
        esac
        [ -e "$f" ] && printf '%s\0' "$f"
    done | tar --null -T - -cf - | tar -C "$1" -xf -
}

# --- the Python extension, when there is one -------------------------------------
rm -rf build/bench-venv
if [ -f setup.py ]; then
    echo "building the Python extension (build/bench-venv)"
    copy_tree "$build/py-src"
    if /usr/bin/python3 -m venv --system-site-packages build/bench-venv >"$logs/pip.log" 2>&1 &&
       build/bench-venv/bin/pip install --no-input "$build/py-src" >>"$logs/pip.log" 2>&1; then
        echo "  built"
    else
        echo "  did not build (see $logs/pip.log): its rows will say so"
    fi
else
    echo "no setup.py: the smtpcore Python rows will say 'not built yet'"
fi

# --- the PHP extension, when there is one ----------------------------------------
rm -rf "$build/php-src"
if [ -f config.m4 ]; then
    echo "building the PHP extension ($build/php-src)"
    copy_tree "$build/php-src"
    flag=--enable-smtpcore
    grep -q 'PHP_ARG_WITH(\[*smtpcore' config.m4 && flag=--with-smtpcore
    if (cd "$build/php-src" && phpize && ./configure "$flag" && make -j"$(nproc)") >"$logs/php.log" 2>&1; then
        echo "  built"
    else
        echo "  did not build (see $logs/php.log): its rows will say so"
    fi
else
    echo "no config.m4: the smtpcore PHP rows will say 'not built yet'"
fi

# --- the suite --------------------------------------------------------------------
echo "running the scenarios (${BENCH_REPS:-3} runs each)"
BENCH_SETUP_SECONDS=$(( $(date +%s) - start )) /usr/bin/python3 bench/suite.py
