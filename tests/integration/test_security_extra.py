"""Cases from the security notes (../shared/notes/security.md) that the other
integration tests did not cover yet, through the CLI; tests/SECURITY.md maps
every note to its tests."""
import email
import email.policy
import os
import re
import shutil
import subprocess

import pytest

from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps

MSG = b"Subject: security test\r\n\r\nbody line\r\n"

# Anything that starts another program (PHPMailer CVE-2016-10033/10045,
# nodemailer CVE-2020-7769 went through a shell or sendmail).
PROCESS_FUNCTIONS = {"system", "popen", "execl", "execle", "execlp", "execv", "execve", "execvp", "execvpe",
                     "fexecve", "fork", "vfork", "posix_spawn", "posix_spawnp", "wordexp"}


def undefined_symbols(path, dynamic):
    args = ["nm", "-u"] + (["-D"] if dynamic else []) + [path]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip().startswith("U ")}


def test_no_transport_can_start_a_shell_or_program(cli_path):
    """Shell: neither the CLI nor any object of the library imports a function
    that runs a command or another program."""
    if not shutil.which("nm"):
        pytest.skip("nm (binutils) is not installed")
    build = os.path.dirname(cli_path)
    checked = {cli_path: undefined_symbols(cli_path, dynamic=True)}
    for name, dynamic in (("libsmtpcore.a", False), ("libsmtpcore.so", True)):
        path = os.path.join(build, name)
        if os.path.exists(path):
            checked[path] = undefined_symbols(path, dynamic)
    for path, symbols in checked.items():
        # The method works: the network code's imports are there.
        assert "connect" in symbols and "SSL_set1_host" in symbols, path
        assert not symbols & PROCESS_FUNCTIONS, (path, sorted(symbols & PROCESS_FUNCTIONS))


def test_starttls_injection_in_a_later_segment(cli, mta):
    """STARTTLS injection where the forged lines come in their own segment,
    after the client has read the 220: they reach the TLS handshake as
    garbage, the handshake fails, and nothing is sent in clear after STARTTLS."""
    srv = FaultServer(greet_ehlo(caps=["STARTTLS", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 Ready\r\n"}, {"sleep": 0.5},
        {"send": "250-XFAKE\r\n250 AUTH PLAIN\r\n"}, {"starttls": True, "allow_fail": True}, {"wait_close": 5}],
        tls_cert=mta.server_cert, tls_key=mta.server_key)
    srv.start()
    try:
        r = cli.run("send", "--host", "localhost", "--port", srv.port, "--ca-file", mta.ca_file, "--user", "u",
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG, password="pw")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 13, r.stderr.decode()
    sent = b"".join(data for d, data in srv.transcript if d == "C")
    clear, _, after = sent.partition(b"STARTTLS\r\n")
    assert clear.count(b"EHLO") == 1
    assert b"AUTH" not in after and b"MAIL" not in after and b"EHLO" not in after


def test_bdat_last_without_a_reply_is_not_reported_sent(cli):
    """Faults: with CHUNKING, the server takes BDAT LAST and closes without
    answering; the message is not reported sent (only a 250 to BDAT LAST counts)."""
    srv = FaultServer(greet_ehlo(caps=["PIPELINING", "CHUNKING", "8BITMIME"]) + [
        {"expect": "MAIL"}, {"expect": "RCPT"}, {"read_bdat": True, "until_last": True},
        {"send": "250 2.1.0 ok\r\n250 2.1.5 ok\r\n"}, {"close": True}])
    srv.start()
    try:
        r = cli.run("send", "--host", "127.0.0.1", "--port", srv.port, "--security", "none",
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG)
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 11, r.stderr.decode()
    assert "sent:" not in r.stdout.decode()
    assert srv.last.bdat and srv.last.bdat[-1][1], "the server received BDAT LAST"


def is_sanitized(path):
    out = subprocess.run(["nm", path], capture_output=True, text=True).stdout
    return "__asan_init" in out or "__ubsan_handle" in out


def test_ten_megabyte_reply_line_costs_little_memory(cli, cli_path):
    """Faults, bounded memory: a 10 MB reply line is refused at the line limit
    (4 KiB), never buffered: the CLI's peak RSS stays far below 10 MB."""
    if not shutil.which("nm") or is_sanitized(cli_path):
        pytest.skip("peak memory is only meaningful without a sanitizer")
    srv = FaultServer([{"send_big_line": 10 * 1024 * 1024, "prefix": "220 "}], timeout=15)
    srv.start()
    try:
        r = cli.run("send", "--stats", "--host", "127.0.0.1", "--port", srv.port, "--security", "none",
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG)
    finally:
        srv.stop()
    err = r.stderr.decode()
    assert r.returncode == 20, err
    m = re.search(r"peak_rss_kib=(\d+)", err)
    assert m, err
    assert int(m.group(1)) < 8 * 1024, err


def test_envelope_addresses_are_the_header_addresses(cli):
    """Address differentials (nodemailer CVE-2025-13033, Python CVE-2023-27043):
    with an '@' in a display name and in a quoted local part, MAIL FROM and
    RCPT TO carry exactly the addresses a mail parser reads from the headers."""
    from_ = '"attacker@evil.test" <me@example.test>'
    to = ['"x@evil.test" <"odd@local"@example.test>', '"Name, With Comma" <you@example.test>']
    srv = FaultServer(greet_ehlo(caps=["8BITMIME", "ENHANCEDSTATUSCODES"]) + [
        {"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"},
        {"expect": "RCPT"}, {"send": "250 ok\r\n"}, {"expect": "DATA"}, {"send": "354 go\r\n"},
        {"read_data": True}, {"send": "250 ok\r\n"}] + quit_steps())
    srv.start()
    try:
        args = ["send", "--host", "127.0.0.1", "--port", srv.port, "--security", "none", "--from", from_,
                "--subject", "x", "--text", "y"]
        for t in to:
            args += ["--to", t]
        r = cli.run(*args)
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 0, r.stderr.decode()
    sent = b"".join(data for d, data in srv.transcript if d == "C").decode()
    mail = re.findall(r"MAIL FROM:<([^\r\n]*?)>(?: |\r\n)", sent)
    rcpts = re.findall(r"RCPT TO:<([^\r\n]*?)>(?: |\r\n)", sent)
    (data,) = srv.data
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert mail == [a.addr_spec for a in msg["From"].addresses] == ["me@example.test"]
    assert rcpts == [a.addr_spec for a in msg["To"].addresses] == ['"odd@local"@example.test', "you@example.test"]
