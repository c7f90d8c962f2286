#!/usr/bin/env bash
# The main job, end to end on this machine: build smtpcore, start a private
# Postfix (with Dovecot SASL and a CA made on the spot) on 127.0.0.1, check the
# server and send a real message through the C core over STARTTLS with AUTH,
# then show the message as it arrived in the Maildir.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
php_missing=()
for p in php8.2-dev php8.2-cli; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || php_missing+=("$p")
done
if [ ${#php_missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${php_missing[@]}" >/dev/null
fi

echo "== building"
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DSMTPCORE_TESTS=OFF >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null
cli="$root/build/demo/smtpcore"
echo "== building the PHP extension (phpize && ./configure && make)"
(phpize && ./configure && make -j "$(nproc)") >/dev/null 2>&1 || { echo "PHP extension build failed"; exit 1; }

work=$(mktemp -d /tmp/smtpcore-demo.XXXXXX)
cleanup() {
    [ -n "${mta_pid:-}" ] && kill "$mta_pid" 2>/dev/null && wait "$mta_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "== starting a capture SMTP server (Postfix + Dovecot) on 127.0.0.1"
coproc MTA { exec /usr/bin/python3 tests/servers/mta.py serve --workdir "$work/mta"; }
mta_pid=$MTA_PID
read -r -t 60 info <&"${MTA[0]}" || { echo "the test MTA did not start"; exit 1; }
field() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$info" "$1"; }
port=$(field 'ports["submission"]')
ca=$(field 'ca_file')
maildir=$(field 'maildir')
echo "   submission port $port (STARTTLS + AUTH), CA $ca"

export SMTPCORE_PASSWORD='correct horse battery'
echo "== smtpcore check (capabilities before and after STARTTLS, AUTH)"
"$cli" check --host localhost --port "$port" --ca-file "$ca" --user alice@example.test

echo "== smtpcore send (through the C core)"
printf 'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: Hello from smtpcore\r\nMessage-ID: <demo-%s@example.test>\r\n\r\nIt works: sent by the smtpcore C core over STARTTLS with AUTH.\r\n' "$$" |
    "$cli" send --host localhost --port "$port" --ca-file "$ca" --user alice@example.test \
        --from alice@example.test --to bob@example.test

echo "== the same through Python (smtpcore extension)"
venv="$root/build/demo-venv"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q --no-build-isolation --disable-pip-version-check "$root" >/dev/null 2>&1 ||
    { echo "pip install . failed"; exit 1; }
SMTPCORE_PORT="$port" SMTPCORE_CA="$ca" "$venv/bin/python" -c '
import os, smtpcore
msg = smtpcore.Message(from_="Alice <alice@example.test>", to=["Dave <dave@example.test>"],
                       subject="Hello from Python", text="Sent by the smtpcore Python extension.\n")
with smtpcore.Client("localhost", int(os.environ["SMTPCORE_PORT"]), ca_file=os.environ["SMTPCORE_CA"],
                     username="alice@example.test", password=os.environ["SMTPCORE_PASSWORD"]) as client:
    print("sent:", client.send(msg).message)'

echo "== the same through PHP (SmtpCore extension)"
SMTPCORE_PORT="$port" SMTPCORE_CA="$ca" php -d extension="$root/modules/smtpcore.so" -r '
$m = (new SmtpCore\Message())->from("Alice <alice@example.test>")->to("Carol <carol@example.test>")
    ->subject("Hello from PHP")->text("Sent by the smtpcore PHP extension.\n");
$c = new SmtpCore\Client(["host" => "localhost", "port" => (int) getenv("SMTPCORE_PORT"), "caFile" => getenv("SMTPCORE_CA"),
    "username" => "alice@example.test", "password" => getenv("SMTPCORE_PASSWORD")]);
echo "sent: ", $c->send($m)->message(), "\n";'

show() { # mailbox
    local f=""
    for i in $(seq 1 100); do
        f=$(find "$maildir/$1/new" -type f 2>/dev/null | head -n 1)
        [ -n "$f" ] && break
        sleep 0.1
    done
    [ -n "$f" ] || { echo "the message to $1 did not arrive"; exit 1; }
    echo "--- delivered to $1: $f"
    cat "$f"
    echo "---"
}
echo "== delivered"
show bob
show dave
show carol
