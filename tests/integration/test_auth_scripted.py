"""AUTH exchanges that the test Postfix cannot show (XOAUTH2, cancelled
exchanges, a lying SCRAM server), scripted with the fault server."""
import base64
import os

from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps


def check(cli, port, *extra, token=None, password=None):
    env_args = []
    if token is not None:
        os.environ["SMTPCORE_TEST_TOKEN"] = token
        env_args = ["--oauth2-token-env", "SMTPCORE_TEST_TOKEN"]
    return cli.run("check", "--host", "127.0.0.1", "--port", port, "--security", "none",
                   "--allow-plaintext-auth", "--user", "user@example.test", *env_args, *extra, password=password)


def client_lines(srv):
    data = b"".join(d for direction, d in srv.transcript if direction == "C")
    return data.split(b"\r\n")


def test_xoauth2_initial_response(cli):
    ir = base64.b64encode(b"user=user@example.test\x01auth=Bearer ya29.token-abc\x01\x01").decode()
    srv = FaultServer(greet_ehlo(caps=["AUTH PLAIN XOAUTH2"]) + [
        {"expect": "AUTH XOAUTH2 " + ir}, {"send": "235 2.7.0 Accepted\r\n"}] + quit_steps())
    srv.start()
    try:
        r = check(cli, srv.port, token="ya29.token-abc")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 0, r.stderr.decode() + srv.format()
    assert "AUTH: XOAUTH2 succeeded" in r.stdout.decode()
    assert srv.error is None, srv.format()


def test_xoauth2_error_json_then_535(cli):
    js = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}').decode()
    srv = FaultServer(greet_ehlo(caps=["AUTH XOAUTH2"]) + [
        {"expect": "AUTH XOAUTH2 "}, {"send": "334 " + js + "\r\n"},
        {"expect_re": r"^$"}, {"send": "535 5.7.8 Username and Password not accepted\r\n"}, {"wait_close": 5}])
    srv.start()
    try:
        r = check(cli, srv.port, token="expired-token")
        srv.wait_done(10)
    finally:
        srv.stop()
    err = r.stderr.decode()
    assert r.returncode == 14, err
    assert "535" in err and '"status":"401"' in err
    assert "expired-token" not in err and "expired-token" not in r.stdout.decode()
    assert srv.error is None, srv.format()


def test_scram_server_that_cannot_prove_the_password_is_refused(cli):
    # A server-first whose nonce does not extend the client's is forged.
    srv = FaultServer(greet_ehlo(caps=["AUTH SCRAM-SHA-256"]) + [
        {"expect": "AUTH SCRAM-SHA-256 "},
        {"send": "334 " + base64.b64encode(b"r=notyournonce,s=QSXCR+Q6sek8bf92,i=4096").decode() + "\r\n"},
        {"wait_close": 5}])
    srv.start()
    try:
        r = check(cli, srv.port, password="pencil")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode in (14, 20), r.stderr.decode()
    lines = client_lines(srv)
    # The exchange was cancelled ("*"), never continued with a client proof.
    assert lines[1].startswith(b"AUTH SCRAM-SHA-256 ") and lines[2] == b"*", lines
    assert lines[3:] == [b""], lines


def test_auth_mechanism_not_offered_is_an_auth_error(cli):
    srv = FaultServer(greet_ehlo(caps=["AUTH LOGIN"]) + [{"wait_close": 5}])
    srv.start()
    try:
        r = check(cli, srv.port, "--auth-mechanism", "CRAM-MD5", password="pw")
        srv.wait_done(10)
    finally:
        srv.stop()
    assert r.returncode == 14, r.stderr.decode()
    assert "CRAM-MD5" in r.stderr.decode()
    assert not any(l.startswith(b"AUTH") for l in client_lines(srv))
