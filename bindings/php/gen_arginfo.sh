#!/bin/sh
# Regenerates bindings/php/smtpcore_arginfo.h from smtpcore.stub.php with
# php-src's gen_stub.php, offline: gen_stub.php wants PHP-Parser in a
# directory beside itself and would download it, so it runs from a temporary
# copy that points at Debian's php-parser package instead.
# Needs: php8.2-cli php8.2-dev php-parser (Debian 12).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
gen=${GEN_STUB:-$(ls /usr/lib/php/*/build/gen_stub.php 2>/dev/null | tail -n 1)}
parser=${PHP_PARSER_DIR:-/usr/share/php/PhpParser}
[ -f "$gen" ] || { echo "gen_stub.php not found (install php8.2-dev)" >&2; exit 1; }
[ -d "$parser" ] || { echo "PhpParser not found (install php-parser)" >&2; exit 1; }
version=$(sed -n 's/^ *\$version = "\(.*\)";/\1/p' "$gen" | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$gen" "$tmp/gen_stub.php"
mkdir -p "$tmp/PHP-Parser-$version/lib"
ln -s "$parser" "$tmp/PHP-Parser-$version/lib/PhpParser"
php "$tmp/gen_stub.php" --force-regeneration "$here/smtpcore.stub.php"
