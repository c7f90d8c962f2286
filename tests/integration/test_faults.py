"""Faults a real server will not produce, from the scriptable fault server,
through the C core's CLI: every case ends with the right error category,
within the timeout, and never claims a message sent that was not accepted."""
import time

import pytest

from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps

CAPS = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
MSG = b"Subject: fault test\r\n\r\nbody line\r\n"


def send_args(port, *extra):
    return ["send", "--host", "127.0.0.1", "--port", port, "--security", "none",
            "--from", "a@example.test", "--to", "b@example.test", "--ehlo-name", "client.test", *extra]


def envelope(rcpts=1):
    steps = [{"expect": "MAIL FROM:<a@example.test>"}]
    steps += [{"expect": "RCPT TO:"} for _ in range(rcpts)]
    steps += [{"expect": "DATA"}]
    return steps


def run(cli, server, *args, input=MSG, timeout=60):
    server.start()
    try:
        t0 = time.monotonic()
        r = cli.run(*send_args(server.port, *args), input=input, timeout=timeout)
        r.elapsed = time.monotonic() - t0
        server.wait_done(10)
        return r
    finally:
        server.stop()


def test_421_at_greeting(cli):
    srv = FaultServer([{"send": "421 4.3.2 Service shutting down\r\n"}, {"wait_close": 5}])
    r = run(cli, srv)
    err = r.stderr.decode()
    assert r.returncode == 11, err
    assert "reply code: 421" in err and "hint:" in err
    assert "sent:" not in r.stdout.decode()


def test_close_during_ehlo(cli):
    srv = FaultServer([{"send": "220 hi\r\n"}, {"expect": "EHLO"}, {"close": True}])
    r = run(cli, srv)
    assert r.returncode == 11, r.stderr.decode()
    assert "closed" in r.stderr.decode()


def test_close_after_mail(cli):
    srv = FaultServer(greet_ehlo(caps=["8BITMIME"]) + [{"expect": "MAIL"}, {"close": True}])
    r = run(cli, srv)
    assert r.returncode == 11, r.stderr.decode()
    assert "sent:" not in r.stdout.decode()


def test_close_in_the_middle_of_data(cli):
    srv = FaultServer(greet_ehlo(caps=CAPS) + envelope() + [
        {"send": "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"}, {"expect": "Subject"}, {"close": True}])
    r = run(cli, srv, input=MSG + b"x" * 5_000_000)
    assert r.returncode == 11, r.stderr.decode()
    assert "sent:" not in r.stdout.decode()


def test_close_after_final_dot_before_reply(cli):
    srv = FaultServer(greet_ehlo(caps=CAPS) + envelope() + [
        {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True}, {"close": True}])
    r = run(cli, srv)
    assert r.returncode == 11, r.stderr.decode()
    assert "sent:" not in r.stdout.decode()
    assert srv.data, "the server received the whole message"


@pytest.mark.parametrize("where", ["greeting", "ehlo", "mail", "final"])
def test_silence_times_out_on_time(cli, where):
    timeout_ms = 1500
    if where == "greeting":
        script = [{"sleep": 10}]
    elif where == "ehlo":
        script = [{"send": "220 hi\r\n"}, {"expect": "EHLO"}, {"sleep": 10}]
    elif where == "mail":
        script = greet_ehlo(caps=["8BITMIME"]) + [{"expect": "MAIL"}, {"sleep": 10}]
    else:
        script = greet_ehlo(caps=CAPS) + envelope() + [
            {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True}, {"sleep": 10}]
    srv = FaultServer(script, timeout=15)
    r = run(cli, srv, "--timeout", timeout_ms)
    assert r.returncode == 19, r.stderr.decode()
    assert "category: timeout" in r.stderr.decode()
    # The whole run includes process start and the earlier steps: the timeout
    # itself fires within 10% of its value.
    assert timeout_ms / 1000 * 0.9 <= r.elapsed <= timeout_ms / 1000 * 1.1 + 0.5, r.elapsed


def test_one_byte_at_a_time_cannot_stretch_the_timeout(cli):
    # A 40-byte greeting at one byte per 100 ms takes 4 s; the reply timeout is 1 s.
    srv = FaultServer([{"drip": "220 " + "x" * 34 + "\r\n", "interval": 0.1}], timeout=15)
    r = run(cli, srv, "--timeout", 1000)
    assert r.returncode == 19, r.stderr.decode()
    assert r.elapsed < 2.0, r.elapsed


def test_slow_replies_within_the_timeout_work(cli):
    srv = FaultServer([{"drip": "220 hi\r\n", "interval": 0.1}, {"expect": "EHLO"},
                       {"drip": "250-faultserver.test\r\n250 PIPELINING\r\n", "interval": 0.02}] + envelope() + [
        {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True},
        {"drip": "250 queued\r\n", "interval": 0.1}] + quit_steps())
    r = run(cli, srv, "--timeout", 3000)
    assert r.returncode == 0, r.stderr.decode()
    assert "sent: 250" in r.stdout.decode()


def test_ten_megabyte_reply_line(cli):
    srv = FaultServer([{"send_big_line": 10 * 1024 * 1024, "prefix": "220 "}], timeout=15)
    r = run(cli, srv)
    err = r.stderr.decode()
    assert r.returncode == 20, err
    assert "too long" in err


def test_hundred_thousand_reply_lines(cli):
    srv = FaultServer([{"send": "220 hi\r\n"}, {"expect": "EHLO"},
                       {"send_repeat": "250-X\r\n", "count": 100000}], timeout=15)
    r = run(cli, srv)
    err = r.stderr.decode()
    assert r.returncode == 20, err
    assert "too many lines" in err


def test_garbage_instead_of_a_reply(cli):
    srv = FaultServer([{"send": "HTTP/1.1 400 Bad Request\r\n\r\n"}, {"wait_close": 5}])
    r = run(cli, srv)
    assert r.returncode == 20, r.stderr.decode()


def test_tls_handshake_failure(cli):
    srv = FaultServer([{"tls_garbage": True}])
    srv.start()
    try:
        r = cli.run("check", "--host", "127.0.0.1", "--port", srv.port, "--security", "tls", timeout=30)
    finally:
        srv.stop()
    assert r.returncode == 13, r.stderr.decode()


def test_temp_and_perm_failures_per_recipient(cli):
    srv = FaultServer(greet_ehlo(caps=CAPS) + [
        {"expect": "MAIL"}, {"expect_any": 3}, {"expect": "DATA"},
        {"send": "250 2.1.0 ok\r\n450 4.2.0 <t@example.test>: greylisted\r\n"
                 "550 5.1.1 <p@example.test>: no such user\r\n250 2.1.5 ok\r\n354 go\r\n"},
        {"read_data": True}, {"send": "250 2.0.0 queued as 12345\r\n"}] + quit_steps())
    srv.start()
    try:
        r = cli.run("send", "--host", "127.0.0.1", "--port", srv.port, "--security", "none",
                    "--from", "a@example.test", "--to", "t@example.test", "--to", "p@example.test",
                    "--to", "ok@example.test", input=MSG)
    finally:
        srv.stop()
    out = r.stdout.decode()
    assert r.returncode == 3, r.stderr.decode()
    assert "refused  <t@example.test> 450 4.2.0" in out
    assert "refused  <p@example.test> 550 5.1.1" in out
    assert "accepted <ok@example.test> 250" in out
    assert "queued as 12345" in out


def test_rejected_message_is_not_reported_sent(cli):
    srv = FaultServer(greet_ehlo(caps=CAPS) + envelope() + [
        {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True},
        {"send": "554 5.7.1 message rejected as spam\r\n"}, {"expect": "RSET"}, {"send": "250 ok\r\n"}]
        + quit_steps())
    r = run(cli, srv)
    assert r.returncode == 20, r.stderr.decode()
    assert "sent:" not in r.stdout.decode()
    assert "554" in r.stderr.decode()


def test_starttls_stripping_is_refused(cli):
    # Required STARTTLS, the server (or an attacker) removed it: no AUTH, no MAIL.
    srv = FaultServer(greet_ehlo(caps=["PIPELINING", "AUTH PLAIN LOGIN"]) + [{"wait_close": 5}])
    srv.start()
    try:
        r = cli.run("send", "--host", "127.0.0.1", "--port", srv.port, "--user", "u",
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG, password="pw")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 13, r.stderr.decode()
    sent = b"".join(data for d, data in srv.transcript if d == "C")
    assert b"AUTH" not in sent and b"MAIL" not in sent


def test_starttls_454_is_refused(cli):
    srv = FaultServer(greet_ehlo(caps=["STARTTLS"]) + [
        {"expect": "STARTTLS"}, {"send": "454 4.7.0 TLS not available\r\n"}, {"wait_close": 5}])
    srv.start()
    try:
        r = cli.run("send", "--host", "127.0.0.1", "--port", srv.port, "--user", "u",
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG, password="pw")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 13, r.stderr.decode()
    sent = b"".join(data for d, data in srv.transcript if d == "C")
    assert b"AUTH" not in sent and b"MAIL" not in sent


def test_starttls_response_injection(cli, mta):
    # "220 Ready" and a forged capability arrive in one segment before TLS.
    srv = FaultServer(greet_ehlo(caps=["STARTTLS", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"},
        {"starttls": True, "allow_fail": True}, {"wait_close": 5}],
        tls_cert=mta.server_cert, tls_key=mta.server_key)
    srv.start()
    try:
        r = cli.run("send", "--host", "localhost", "--port", srv.port, "--ca-file", mta.ca_file,
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG)
        srv.wait_done(10)
    finally:
        srv.stop()
    err = r.stderr.decode()
    assert r.returncode == 13, err
    assert "injection" in err
    sent = b"".join(data for d, data in srv.transcript if d == "C")
    assert sent.endswith(b"STARTTLS\r\n"), sent


def test_starttls_then_new_capabilities_only(cli, mta):
    # Before TLS the server claims CHUNKING; after TLS it does not. The client
    # must use DATA (capabilities are re-read after the handshake).
    srv = FaultServer(greet_ehlo(caps=["STARTTLS", "CHUNKING", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 Ready\r\n"}, {"starttls": True},
        {"expect": "EHLO"}, {"send": "250-faultserver.test\r\n250 PIPELINING\r\n"}] + envelope() + [
        {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True}, {"send": "250 ok\r\n"}] + quit_steps(),
        tls_cert=mta.server_cert, tls_key=mta.server_key)
    srv.start()
    try:
        r = cli.run("send", "--host", "localhost", "--port", srv.port, "--ca-file", mta.ca_file,
                    "--from", "a@example.test", "--to", "b@example.test", input=MSG)
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 0, r.stderr.decode() + srv.format()
    assert srv.data == [MSG]


def test_smuggling_patterns_on_the_wire(cli):
    body = b"Subject: x\r\n\r\na\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r\n.\rf\r\n..g\r\n.\r\nh"
    srv = FaultServer(greet_ehlo(caps=["8BITMIME"]) + [
        {"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"},
        {"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 ok\r\n"}] + quit_steps())
    r = run(cli, srv, input=body)
    assert r.returncode == 0, r.stderr.decode()
    (wire,) = srv.data
    assert wire == (b"Subject: x\r\n\r\na\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n"
                    b"...g\r\n..\r\nh\r\n")
    assert b"\r\n.\r\n" not in wire


def test_crlf_injection_in_addresses_refused_before_connecting(cli):
    srv = FaultServer([{"send": "220 hi\r\n"}, {"wait_close": 3}])
    srv.start()
    try:
        r = cli.run("send", "--host", "127.0.0.1", "--port", srv.port, "--security", "none",
                    "--from", "a@example.test", "--to", "b@example.test\r\nRCPT TO:<evil@example.test>",
                    input=MSG)
    finally:
        srv.stop()
    assert r.returncode == 22, r.stderr.decode()
    sent = b"".join(data for d, data in srv.transcript if d == "C")
    assert b"evil" not in sent and b"RCPT" not in sent
