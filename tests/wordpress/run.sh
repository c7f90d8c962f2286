#!/usr/bin/env bash
# The WordPress plugin's tests, against a real WordPress and a real Postfix.
#
# As root on Debian 12, from anywhere:   bash tests/wordpress/run.sh
#
# Installs what is missing (Debian packages; playwright-core from npm into
# tests/wordpress/node_modules), builds the smtpcore PHP extension if
# modules/smtpcore.so is missing, then starts, all on loopback and all under a
# fresh temporary directory: MariaDB (socket only), WordPress (Debian's package,
# served by php -S with the extension loaded), the test MTA (Postfix + Dovecot,
# tests/servers/mta.py). It installs WordPress, activates the plugin, runs
# PHPUnit inside WordPress and the browser test (playwright-core driving
# Debian's chromium), stops everything (also on failure or Ctrl-C) and prints
# "N passed, N failed". Exit status 0 only when everything passed.
#
# Results: tests/output/wordpress-phpunit.xml (JUnit), tests/output/wordpress/
# (browser results, screenshots, server logs); screenshots of the settings and
# test-email pages are also copied to docs/ when SMTPCORE_WP_UPDATE_DOCS=1.
#
# Environment: SMTPCORE_PHP_EXT=/path/smtpcore.so (use that build),
# SMTPCORE_WP_SKIP_PHPUNIT=1, SMTPCORE_WP_SKIP_BROWSER=1,
# SMTPCORE_WP_PHPUNIT_ARGS="--filter x" (extra PHPUnit arguments).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/tests/output"
SHOTS="$OUT/wordpress"
T0=$(date +%s)

log() { printf '[wordpress %3ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (MariaDB, Postfix and Dovecot are started here)"

# ---------------------------------------------------------------- packages
EXT="${SMTPCORE_PHP_EXT:-$ROOT/modules/smtpcore.so}"
packages="wordpress php-cli php-mysql mariadb-server mariadb-client phpunit chromium postfix dovecot-core openssl ca-certificates python3 curl"
if [ ! -f "$EXT" ]; then
    packages="$packages php8.2-dev build-essential pkg-config libssl-dev libidn2-dev libcurl4-openssl-dev"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    mkdir -p "$OUT"
    export DEBIAN_FRONTEND=noninteractive
    # The test MTA and MariaDB run private instances started below: the packages'
    # own services (MariaDB, Apache pulled in by wordpress, Postfix) are not
    # started, and the system Postfix stays unconfigured.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    policy_rc=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_rc=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # shellcheck disable=SC2086
    { apt-get -o DPkg::Lock::Timeout=600 update -q &&
      apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing; } >"$OUT/wordpress-apt.log" 2>&1
    apt_rc=$?
    [ -n "$policy_rc" ] && { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
    [ "$apt_rc" = 0 ] || { tail -20 "$OUT/wordpress-apt.log" >&2; die "apt-get install failed"; }
fi
command -v node >/dev/null || die "node (20) is needed for the browser test"

mkdir -p "$OUT" "$SHOTS" "$ROOT/docs"
rm -f "$SHOTS"/*.png "$SHOTS"/browser-results.json "$OUT/wordpress-phpunit.xml"

# ---------------------------------------------------------------- the extension
if [ ! -f "$EXT" ]; then
    log "building the smtpcore PHP extension (phpize at the repository root)"
    (cd "$ROOT" && phpize >/dev/null && ./configure >/dev/null && make -j"$(nproc)" >/dev/null) ||
        die "building the extension failed"
fi
php -n -d extension="$EXT" -r 'exit(extension_loaded("smtpcore") ? 0 : 1);' ||
    php -d extension="$EXT" -r 'exit(extension_loaded("smtpcore") ? 0 : 1);' ||
    die "$EXT does not load"
PHP=(php -d extension="$EXT")
log "extension: $EXT ($("${PHP[@]}" -r 'echo SmtpCore\version();'))"

# ---------------------------------------------------------------- playwright-core
if [ "${SMTPCORE_WP_SKIP_BROWSER:-0}" != 1 ] && [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
    log "npm ci (playwright-core)"
    (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null 2>&1) || die "npm ci failed in $HERE"
fi

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/scwp.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/logs"
WEB_PID="" DB_PID="" MTA_PID=""
SITE_CONFIG=/etc/wordpress/config-127.0.0.1.php
SITE_CONFIG_BACKUP=""

stop_group() { # pid-and-pgid seconds: SIGTERM the process group, then SIGKILL what is left
    local pid=$1 wait_s=$2 i
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < wait_s * 10; i++)); do
        pgrep -g "$pid" >/dev/null 2>&1 || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [ -n "$WEB_PID" ] && stop_group "$WEB_PID" 5
    if [ -n "$MTA_PID" ]; then
        kill -TERM "$MTA_PID" 2>/dev/null # mta.py stops Postfix and Dovecot itself
        for ((i = 0; i < 200; i++)); do kill -0 "$MTA_PID" 2>/dev/null || break; sleep 0.1; done
        stop_group "$MTA_PID" 5
    fi
    [ -n "$DB_PID" ] && stop_group "$DB_PID" 20
    wait 2>/dev/null
    if [ -L "$SITE_CONFIG" ] && [ "$(readlink "$SITE_CONFIG")" = "$WORK/wp-config-local.php" ]; then
        rm -f "$SITE_CONFIG"
    fi
    [ -n "$SITE_CONFIG_BACKUP" ] && mv -f "$SITE_CONFIG_BACKUP" "$SITE_CONFIG"
    mkdir -p "$SHOTS/logs"
    cp -f "$WORK"/logs/* "$SHOTS/logs/" 2>/dev/null
    [ -d "$WORK/mta/log" ] && cp -f "$WORK"/mta/log/*.log "$SHOTS/logs/" 2>/dev/null
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- test MTA
log "starting the test MTA"
setsid /usr/bin/python3 "$ROOT/tests/servers/mta.py" serve --workdir "$WORK/mta" \
    >"$WORK/mta.json" 2>"$WORK/logs/mta.stderr" &
MTA_PID=$!

# ---------------------------------------------------------------- MariaDB
log "starting MariaDB (socket only)"
DB_SOCK="$WORK/mysql.sock"
mariadb-install-db --no-defaults --datadir="$WORK/db" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$WORK/logs/mariadb-install.log" 2>&1 ||
    die "mariadb-install-db failed (see $SHOTS/logs/mariadb-install.log)"
setsid mariadbd --no-defaults --datadir="$WORK/db" --socket="$DB_SOCK" --pid-file="$WORK/mysql.pid" \
    --skip-networking --user=root --log-error="$WORK/logs/mariadb.err" >"$WORK/logs/mariadb.out" 2>&1 &
DB_PID=$!
for ((i = 0; i < 300; i++)); do
    mariadb-admin --no-defaults --socket="$DB_SOCK" -u root ping >/dev/null 2>&1 && break
    kill -0 "$DB_PID" 2>/dev/null || die "mariadbd exited (see $SHOTS/logs/mariadb.err)"
    sleep 0.1
done
DB_PASS=$(openssl rand -hex 12)
mariadb --no-defaults --socket="$DB_SOCK" -u root -e "
    CREATE DATABASE wordpress_smtpcore CHARACTER SET utf8mb4;
    CREATE USER 'wp'@'localhost' IDENTIFIED BY '$DB_PASS';
    GRANT ALL ON wordpress_smtpcore.* TO 'wp'@'localhost';" || die "creating the database failed"

# ---------------------------------------------------------------- WordPress
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
CONTENT="$WORK/wp-content"
mkdir -p "$CONTENT/plugins" "$CONTENT/themes/smtpcore-test" "$CONTENT/uploads"
cp -r "$ROOT/wp-plugin/smtpcore-mailer" "$CONTENT/plugins/"
printf '/*\nTheme Name: smtpcore test\n*/\n' >"$CONTENT/themes/smtpcore-test/style.css"
printf '<?php\necho "smtpcore test site";\n' >"$CONTENT/themes/smtpcore-test/index.php"

salt() { openssl rand -base64 48 | tr -d '\n/+='; }
cat >"$WORK/wp-config-local.php" <<EOF
<?php
// Written by tests/wordpress/run.sh for one test run.
define( 'DB_NAME', 'wordpress_smtpcore' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', '$DB_PASS' );
define( 'DB_HOST', 'localhost:$DB_SOCK' );
define( 'WP_HOME', '$URL' );
define( 'WP_SITEURL', '$URL' );
define( 'WP_CONTENT_DIR', '$CONTENT' );
define( 'WP_CONTENT_URL', '$URL/wp-content' );
define( 'AUTH_KEY', '$(salt)' );
define( 'SECURE_AUTH_KEY', '$(salt)' );
define( 'LOGGED_IN_KEY', '$(salt)' );
define( 'NONCE_KEY', '$(salt)' );
define( 'AUTH_SALT', '$(salt)' );
define( 'SECURE_AUTH_SALT', '$(salt)' );
define( 'LOGGED_IN_SALT', '$(salt)' );
define( 'NONCE_SALT', '$(salt)' );
define( 'DISABLE_WP_CRON', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'FS_METHOD', 'direct' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '$WORK/logs/wp-debug.log' );
// Constants a test process asks for (SMTPCORE_HOST and so on), as JSON in the environment.
if ( getenv( 'SMTPCORE_WP_CONSTANTS' ) ) {
    foreach ( (array) json_decode( getenv( 'SMTPCORE_WP_CONSTANTS' ), true ) as \$name => \$value ) {
        define( \$name, \$value );
    }
}
\$table_prefix = 'wp_';
EOF
if [ -e "$SITE_CONFIG" ] || [ -L "$SITE_CONFIG" ]; then
    SITE_CONFIG_BACKUP="$WORK/config-127.0.0.1.php.orig"
    mv "$SITE_CONFIG" "$SITE_CONFIG_BACKUP"
fi
mkdir -p /etc/wordpress
ln -s "$WORK/wp-config-local.php" "$SITE_CONFIG"

export SMTPCORE_WP_ADMIN_PASS="admin-$(openssl rand -hex 6)"
export SMTPCORE_WP_USER_PASS="user-$(openssl rand -hex 6)"
export SMTPCORE_WP_URL="$URL"
export SMTPCORE_WP_CONTENT_DIR="$CONTENT"
export SMTPCORE_PHP_EXT="$EXT"
export SMTPCORE_WP_WORK="$WORK"
export SMTPCORE_WP_DEBUG_LOG="$WORK/logs/wp-debug.log"

log "installing WordPress"
"${PHP[@]}" "$HERE/bin/setup-wordpress.php" >"$WORK/logs/setup.log" 2>&1 ||
    { cat "$WORK/logs/setup.log" >&2; die "installing WordPress failed"; }

log "starting WordPress on $URL"
PHP_CLI_SERVER_WORKERS=4 setsid "${PHP[@]}" -d display_errors=0 -d log_errors=1 \
    -S "127.0.0.1:$PORT" -t /usr/share/wordpress "$HERE/router.php" >"$WORK/logs/php-server.log" 2>&1 &
WEB_PID=$!
for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "$URL/wp-login.php" && break
    kill -0 "$WEB_PID" 2>/dev/null || die "php -S exited (see $SHOTS/logs/php-server.log)"
    sleep 0.1
done

for ((i = 0; i < 600; i++)); do
    [ -s "$WORK/mta.json" ] && break
    kill -0 "$MTA_PID" 2>/dev/null || { cat "$WORK/logs/mta.stderr" >&2; die "the test MTA did not start"; }
    sleep 0.1
done
[ -s "$WORK/mta.json" ] || die "the test MTA did not start in 60 s"
export SMTPCORE_WP_MTA="$WORK/mta.json"
log "ready: MTA $(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(f"{k}={v}" for k,v in d["ports"].items()))' "$WORK/mta.json")"

# ---------------------------------------------------------------- PHPUnit
php_passed=0 php_failed=0
if [ "${SMTPCORE_WP_SKIP_PHPUNIT:-0}" != 1 ]; then
    log "PHPUnit inside WordPress"
    t=$(date +%s)
    # shellcheck disable=SC2086
    (cd "$HERE" && "${PHP[@]}" /usr/bin/phpunit -c "$HERE/phpunit.xml" \
        --log-junit "$OUT/wordpress-phpunit.xml" ${SMTPCORE_WP_PHPUNIT_ARGS:-}) 2>&1 | tee "$SHOTS/phpunit.log"
    if [ -f "$OUT/wordpress-phpunit.xml" ]; then
        read -r php_total php_bad < <(/usr/bin/python3 - "$OUT/wordpress-phpunit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
tests = int(suite.get("tests", 0)) if suite is not None else 0
bad = sum(int(suite.get(k, 0)) for k in ("failures", "errors")) if suite is not None else 1
print(tests, bad)
PY
        )
        php_failed=$php_bad
        php_passed=$((php_total - php_bad))
    else
        php_failed=1
    fi
    log "PHPUnit: $php_passed passed, $php_failed failed ($(($(date +%s) - t)) s)"
fi

# ---------------------------------------------------------------- browser
br_passed=0 br_failed=0
if [ "${SMTPCORE_WP_SKIP_BROWSER:-0}" != 1 ]; then
    log "browser test (playwright-core + chromium)"
    t=$(date +%s)
    SMTPCORE_WP_SHOTS="$SHOTS" SMTPCORE_WP_DOCS="$ROOT/docs" \
        node "$HERE/browser.test.mjs" 2>&1 | tee "$SHOTS/browser.log"
    if [ -f "$SHOTS/browser-results.json" ]; then
        read -r br_passed br_failed < <(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], d["failed"])' "$SHOTS/browser-results.json")
    else
        br_failed=1
    fi
    log "browser: $br_passed passed, $br_failed failed ($(($(date +%s) - t)) s)"
fi

# ---------------------------------------------------------------- PHP warnings from the plugin
warn_failed=0
if grep -n "smtpcore-mailer/" "$WORK/logs/wp-debug.log" >"$SHOTS/plugin-warnings.log" 2>/dev/null; then
    warn_failed=1
    log "PHP notices or warnings from the plugin:"; head -20 "$SHOTS/plugin-warnings.log" >&2
fi

passed=$((php_passed + br_passed + 1 - warn_failed))
failed=$((php_failed + br_failed + warn_failed))
log "total time $(($(date +%s) - T0)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
