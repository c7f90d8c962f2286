"""Self-tests of the TestMTA harness, using smtplib/ssl as a stand-in client.

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/servers/test_mta.py
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time

import pytest

try:
    from .mta import TestMTA, MTAStartError, MTATimeout, _proc_sessions
except ImportError:  # collected without package context (e.g. --import-mode=importlib)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mta import TestMTA, MTAStartError, MTATimeout, _proc_sessions

MTA_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mta.py")
ALICE = "alice@example.test"
BOB = "bob@example.test"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="TestMTA needs root")


@pytest.fixture(scope="session")
def mta(tmp_path_factory):
    # tmp_path_factory dirs live under the 0700 /tmp/pytest-of-root: this also
    # proves the harness works when the workdir's ancestors are not searchable
    # by the postfix/nobody/dovecot users.
    with TestMTA(tmp_path_factory.mktemp("mta")) as m:
        yield m


@pytest.fixture(autouse=True)
def clean_mailboxes(request):
    if "mta" in request.fixturenames:
        m = request.getfixturevalue("mta")
        m.wait_queue_empty()
        m.clear()
    yield


def test_localhost_is_loopback():
    assert socket.gethostbyname("localhost") == "127.0.0.1"


def tls_ctx(mta):
    ctx = ssl.create_default_context(cafile=mta.ca_file)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def submission_session(mta, port="submission"):
    # Connect by name so that smtplib's starttls() checks the name "localhost".
    s = smtplib.SMTP("localhost", mta.ports[port], local_hostname="client.test", timeout=10)
    s.starttls(context=tls_ctx(mta))  # verifies chain + hostname "localhost"
    assert s.sock.server_hostname == "localhost"
    s.ehlo()
    return s


def ehlo_keywords(s):
    code, _ = s.ehlo()
    assert code == 250
    return set(k.upper() for k in s.esmtp_features)


def auth_mechs(s):
    return set(s.esmtp_features.get("auth", "").upper().split())


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.b64encode(b).decode()


def scram_login(s, mech, user, password):
    """Minimal RFC 5802 client over smtplib.docmd (smtplib has no SCRAM)."""
    hname = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mech]
    cnonce = b64(os.urandom(18))
    client_first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), cnonce)
    code, resp = s.docmd("AUTH", "%s %s" % (mech, b64("n,," + client_first_bare)))
    assert code == 334, (code, resp)
    server_first = base64.b64decode(resp).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    final_wo_proof = "c=%s,r=%s" % (b64("n,,"), attrs["r"])
    auth_message = ",".join((client_first_bare, server_first, final_wo_proof)).encode()
    sig = hmac.new(stored_key, auth_message, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    code, resp = s.docmd(b64(final_wo_proof + ",p=" + b64(proof)))
    if code == 535:
        return code, resp
    server_sig = hmac.new(hmac.new(salted, b"Server Key", hname).digest(), auth_message, hname).digest()
    if code == 334:  # server-final-message as a challenge, then empty response
        assert base64.b64decode(resp).decode() == "v=" + b64(server_sig)
        code, resp = s.docmd("")
    return code, resp


# --------------------------------------------------------------------------- basics

def test_startup_fast_and_info(mta):
    assert mta.startup_seconds < 5, mta.startup_seconds
    info = json.loads(json.dumps(mta.info()))
    assert set(info["ports"]) == {"submission", "smtps", "plain", "wrongcert", "nochunk", "mx"}
    assert len(set(info["ports"].values())) == 6
    assert info["users"] == {ALICE: "correct horse battery", BOB: "s3cret-Bob"}
    assert os.path.isfile(info["ca_file"])
    assert os.path.isdir(os.path.join(info["maildir"], "alice", "new"))


def test_private_workdir_is_fine(mta):
    """The session workdir (pytest tmp dir) is not searchable by other users,
    yet delivery (as nobody), Postfix (as postfix) and Dovecot work."""
    if os.stat(mta.workdir).st_mode & 0o001:
        pytest.skip("workdir happens to be world-searchable")
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        s.sendmail("", ["dave@example.test"], b"Subject: private\r\n\r\nx\r\n")
    assert len(mta.wait_for_messages("dave", 1)) == 1


def test_listens_on_loopback_only_and_no_outbound_transport(mta):
    main_cf = open(os.path.join(mta.postfix_conf_dir, "main.cf")).read()
    master_cf = open(os.path.join(mta.postfix_conf_dir, "master.cf")).read()
    for line in ("inet_interfaces = 127.0.0.1", "relayhost =", "default_transport = outbound",
                 "smtp_dns_support_level = disabled"):
        assert line + "\n" in main_cf
    for line in master_cf.splitlines():
        if " inet " in line:
            assert line.startswith("127.0.0.1:")
    # no smtp(8)/lmtp(8) client service exists at all
    assert not any(l.split()[-1] in ("smtp", "lmtp") for l in master_cf.splitlines()
                   if l and not l[0].isspace() and not l.startswith("#"))


@pytest.mark.parametrize("port", ["submission", "mx"])
def test_ehlo_keywords(mta, port):
    with smtplib.SMTP("localhost", mta.ports[port], timeout=10) as s:
        kw = ehlo_keywords(s)
        for k in ("PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "DSN",
                  "ENHANCEDSTATUSCODES", "SIZE", "STARTTLS"):
            assert k in kw, (k, kw)
        assert s.esmtp_features["size"] == str(TestMTA.MESSAGE_SIZE_LIMIT)
        assert "AUTH" not in kw  # submission: only after TLS; mx: never
        s.starttls(context=tls_ctx(mta))
        kw = ehlo_keywords(s)
        assert "STARTTLS" not in kw
        assert {"PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES",
                "SIZE"} <= kw
        if port == "submission":
            assert auth_mechs(s) >= {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
        else:
            assert "AUTH" not in kw


def test_nochunk_port(mta):
    with smtplib.SMTP("localhost", mta.ports["nochunk"], timeout=10) as s:
        kw = ehlo_keywords(s)
        assert "CHUNKING" not in kw and "PIPELINING" not in kw
        assert {"8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES", "SIZE", "STARTTLS"} <= kw
        s.starttls(context=tls_ctx(mta))
        kw = ehlo_keywords(s)
        assert "CHUNKING" not in kw and "PIPELINING" not in kw and "AUTH" in kw
        s.login(ALICE, mta.users[ALICE])
        s.sendmail(ALICE, [BOB], b"Subject: nochunk\r\n\r\nhi\r\n")
    assert len(mta.wait_for_messages("bob", 1)) == 1


# --------------------------------------------------------------------------- AUTH

@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_submission_starttls_auth(mta, mech):
    s = submission_session(mta)
    try:
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert mech in auth_mechs(s)
        s.user, s.password = ALICE, mta.users[ALICE]
        code, resp = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
        assert code == 235, resp
        s.sendmail(ALICE, [BOB], ("Subject: via %s\r\n\r\nbody\r\n" % mech).encode())
    finally:
        s.quit()
    (msg,) = mta.wait_for_messages("bob", 1)
    assert b"Subject: via " + mech.encode() in msg
    assert b"with ESMTPSA" in msg


def test_smtplib_login_with_cram_md5(mta):
    s = submission_session(mta)
    try:
        assert "CRAM-MD5" in auth_mechs(s)
        s.esmtp_features["auth"] = "CRAM-MD5"  # make login() pick exactly this mechanism
        code, _ = s.login(BOB, mta.users[BOB])
        assert code == 235
        s.sendmail(BOB, [ALICE], b"Subject: cram\r\n\r\nx\r\n")
    finally:
        s.quit()
    mta.wait_for_messages("alice", 1)
    deadline = time.monotonic() + 5  # postlogd writes asynchronously
    while "sasl_method=CRAM-MD5, sasl_username=bob@example.test" not in mta.log_tail(100):
        assert time.monotonic() < deadline, mta.log_tail(100)
        time.sleep(0.05)


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_scram(mta, mech):
    s = submission_session(mta)
    try:
        code, resp = scram_login(s, mech, ALICE, mta.users[ALICE])
        assert code == 235, resp
    finally:
        s.quit()
    s = submission_session(mta)
    try:
        code, resp = scram_login(s, mech, ALICE, "not the password")
        assert code == 535, resp
    finally:
        s.quit()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_wrong_password_535(mta, mech):
    s = submission_session(mta)
    try:
        s.user, s.password = ALICE, "wrong"
        t0 = time.monotonic()
        code, resp = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
        pytest.fail("AUTH succeeded: %r %r" % (code, resp))
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535
        assert e.smtp_error.startswith(b"5.7.8")
        # no growing per-IP auth penalty (Dovecot 2.3.19 still waits ~0.5 s)
        assert time.monotonic() - t0 < 1.5
    finally:
        s.quit()


def test_submission_requires_auth(mta):
    s = submission_session(mta)
    try:
        s.mail(ALICE)
        code, resp = s.rcpt("bob@elsewhere.test")
        assert (code, resp) == (554, b"5.7.1 <bob@elsewhere.test>: Relay access denied")
        code, resp = s.rcpt(BOB)
        assert code == 554 and resp.startswith(b"5.7.1 <bob@example.test>: Recipient address rejected")
    finally:
        s.quit()
    # AUTH in the clear is not possible on submission (smtpd_tls_auth_only)
    with smtplib.SMTP(mta.host, mta.ports["submission"], timeout=10) as s:
        s.ehlo()
        code, resp = s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (ALICE, mta.users[ALICE])))
        assert code == 503, (code, resp)


def test_authenticated_relay_lands_in_catchall(mta):
    s = submission_session(mta)
    try:
        s.login(ALICE, mta.users[ALICE])
        s.sendmail(ALICE, ["someone@elsewhere.test", "x@example.org"], b"Subject: out\r\n\r\nx\r\n")
    finally:
        s.quit()
    msgs = mta.wait_for_messages(TestMTA.RELAYED, 2)
    assert sorted(m.split(b"Delivered-To: ")[1].split(b"\n")[0] for m in msgs) == \
        [b"someone@elsewhere.test", b"x@example.org"]
    mta.wait_queue_empty()
    assert mta.messages("alice") == []  # no bounce came back


def test_smtps_implicit_tls(mta):
    with smtplib.SMTP_SSL("localhost", mta.ports["smtps"], context=tls_ctx(mta), timeout=10) as s:
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        kw = ehlo_keywords(s)
        assert "STARTTLS" not in kw
        assert auth_mechs(s) >= {"PLAIN", "LOGIN", "CRAM-MD5"}
        s.login(ALICE, mta.users[ALICE])
        s.sendmail(ALICE, [BOB], b"Subject: smtps\r\n\r\nx\r\n")
    (msg,) = mta.wait_for_messages("bob", 1)
    assert b"Subject: smtps" in msg


def test_plain_port_offers_auth_without_tls(mta):
    with smtplib.SMTP(mta.host, mta.ports["plain"], timeout=10) as s:
        kw = ehlo_keywords(s)
        assert "STARTTLS" not in kw
        assert auth_mechs(s) >= {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}
        with pytest.raises(smtplib.SMTPNotSupportedError):
            s.starttls()
        s.mail(ALICE)
        assert s.rcpt(BOB)[0] == 554  # unauthenticated
        s.rset()
        s.user, s.password = BOB, mta.users[BOB]
        assert s.auth("PLAIN", s.auth_plain)[0] == 235
        s.sendmail(BOB, [ALICE], b"Subject: plain\r\n\r\nx\r\n")
    (msg,) = mta.wait_for_messages("alice", 1)
    assert b"with ESMTPA" in msg


def test_wrongcert_fails_hostname_check(mta):
    with smtplib.SMTP("localhost", mta.ports["wrongcert"], timeout=10) as s:
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            s.starttls(context=tls_ctx(mta))
        assert ei.value.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH
        assert "localhost" in str(ei.value)
    # Same CA: the chain itself is fine, only the name is wrong.
    ctx = tls_ctx(mta)
    ctx.check_hostname = False
    with smtplib.SMTP(mta.host, mta.ports["wrongcert"], timeout=10) as s:
        s.starttls(context=ctx)
        cert = s.sock.getpeercert()
        assert cert["subjectAltName"] == (("DNS", "wrong.example"),)
        ehlo_keywords(s)
        s.login(ALICE, mta.users[ALICE])
    # the good cert also verifies for IP 127.0.0.1 (server_hostname = "127.0.0.1")
    with smtplib.SMTP("127.0.0.1", mta.ports["submission"], timeout=10) as s:
        s.starttls(context=tls_ctx(mta))
        assert set(s.sock.getpeercert()["subjectAltName"]) == {("DNS", "localhost"), ("IP Address", "127.0.0.1")}


# --------------------------------------------------------------------------- mx policy

def test_mx_policy(mta):
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        s.ehlo()
        s.mail("sender@elsewhere.test")
        assert s.rcpt("bob@elsewhere.test") == (554, b"5.7.1 <bob@elsewhere.test>: Relay access denied")
        code, resp = s.rcpt("nobody-here@example.test")
        assert code == 550 and resp.startswith(b"5.1.1 <nobody-here@example.test>: Recipient address rejected")
        assert s.rcpt("carol@example.test")[0] == 250
        assert s.rcpt("carol+tag@example.test")[0] == 250
        assert s.data(b"Subject: mx\r\n\r\nx\r\n")[0] == 250
    msgs = mta.wait_for_messages("carol", 2)
    assert len(msgs) == 2
    assert b"with ESMTP id" in msgs[0]


def test_message_size_limit(mta):
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 11000  # ~11 MB
    assert len(big) > 11000000
    s = submission_session(mta)
    try:
        s.login(ALICE, mta.users[ALICE])
        # smtplib announces SIZE=... -> rejected at MAIL FROM
        with pytest.raises(smtplib.SMTPSenderRefused) as ei:
            s.sendmail(ALICE, [BOB], big)
        assert ei.value.smtp_code == 552 and ei.value.smtp_error.startswith(b"5.3.4")
        s.rset()
        # without SIZE: rejected after the data
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt(BOB)[0] == 250
        code, resp = s.data(big)
        assert code == 552 and resp.startswith(b"5.3.4"), (code, resp)
    finally:
        s.quit()
    mta.wait_queue_empty()
    assert mta.messages("bob") == []


# --------------------------------------------------------------------------- content fidelity

TRICKY = (
    b"Received: from client.example by relay.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"Return-Path: <spoofed@example.org>\r\n"
    b"Delivered-To: somebody-else@example.test\r\n"
    b"From: Alice <alice@example.test>\r\n"
    b"To: bob\r\n"
    b"Bcc: hidden@example.test\r\n"
    b"Content-Length: 12345\r\n"
    b"Subject: =?utf-8?q?caf=C3=A9?= and a folded\r\n"
    b"\tcontinuation line   \r\n"
    b"X-Utf8: Gr\xc3\xbc\xc3\x9fe\r\n"
    b"\r\n"
    b"First body line\r\n"
    b".leading dot\r\n"
    b"..two dots\r\n"
    b".\r\n"
    b"\r\n"
    b"trailing spaces   \r\n"
    b"tab\there, NUL \x00, latin1 \xe9, utf8 \xe2\x82\xac\r\n"
    b"From the start of a body line\r\n"
    + b"L" * 5000 + b"\r\n"
    b"\r\n"
    b"last line\r\n"
)


def test_strip_trace_roundtrip_submission(mta):
    s = submission_session(mta)
    try:
        s.login(ALICE, mta.users[ALICE])
        s.sendmail(ALICE, [BOB], TRICKY, mail_options=["BODY=8BITMIME", "SMTPUTF8"])
    finally:
        s.quit()
    (raw,) = mta.wait_for_messages("bob", 1)
    assert raw.startswith(b"Return-Path: <alice@example.test>\nX-Original-To: bob@example.test\n"
                          b"Delivered-To: bob@example.test\nReceived: from ")
    assert b"\r" not in raw
    assert TestMTA.strip_trace(raw) == TRICKY
    # Postfix added no Message-ID/Date and did not rewrite "To: bob"
    stripped = TestMTA.strip_trace(raw)
    assert b"Message-ID" not in stripped and b"\r\nDate:" not in stripped


@pytest.mark.parametrize("msg", [
    b"Subject: no body\r\n",
    b"Subject: empty body\r\n\r\n",
    b"\r\n\r\nstarts with empty lines\r\n",
    b"X-Long: " + b"h" * 5000 + b"\r\nX-A:no-space\r\n \r\nX-B: after whitespace-only line\r\n\r\nx\r\n",
    b"",  # smtplib sends just CRLF . CRLF -> a message consisting of one empty line
])
def test_strip_trace_roundtrip_mx_edge_cases(mta, msg):
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        s.sendmail("", ["erin@example.test"], msg)  # null sender
    (raw,) = mta.wait_for_messages("erin", 1)
    assert raw.startswith(b"Return-Path: <>\n")
    assert TestMTA.strip_trace(raw) == (msg or b"\r\n")


@pytest.mark.parametrize("sent, stored", [
    # cleanup(8) separates headers from body with an empty line
    (b"no header/body separator, just one line\r\n", b"\r\nno header/body separator, just one line\r\n"),
    (b"Subject: a\r\n cont\r\nNot a header\r\nSubject: b\r\n\r\nx\r\n",
     b"Subject: a\r\n cont\r\n\r\nNot a header\r\nSubject: b\r\n\r\nx\r\n"),
    # leading mbox From_ line
    (b"From bob Mon Jan  1 00:00:00 2024\r\nSubject: y\r\n\r\nx\r\n",
     b"X-Mailbox-Line: From bob Mon Jan  1 00:00:00 2024\r\nSubject: y\r\n\r\nx\r\n"),
    # whitespace before the colon of a header name
    (b"X-Foo : y\r\nCC :  c@d\r\n\r\nb\r\n", b"X-Foo: y\r\nCC:  c@d\r\n\r\nb\r\n"),
    # bare CR inside a line -> space; CRs right before the line end dropped
    (b"Subject: x\r\n\r\na\rb\r\nc\r\r\r\n", b"Subject: x\r\n\r\na b\r\nc\r\n"),
    # a bare LF ends a line like CRLF does
    (b"Subject: x\r\n\r\nbare\nLF\r\n", b"Subject: x\r\n\r\nbare\r\nLF\r\n"),
])
def test_documented_postfix_changes(mta, sent, stored):
    """The (only) content changes Postfix makes beyond trace headers / LF (see mta.py)."""
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        s.sendmail("", ["erin@example.test"], sent)
    (raw,) = mta.wait_for_messages("erin", 1)
    assert TestMTA.strip_trace(raw) == stored


def _raw_smtp(mta, port, chunks):
    """Tiny raw client: returns the list of reply lines read after each send."""
    sock = socket.create_connection((mta.host, mta.ports[port]), timeout=10)
    f = sock.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline()
            assert line, "connection closed"
            lines.append(line)
            if line[3:4] != b"-":
                return lines

    out = [reply()]
    for c in chunks:
        sock.sendall(c)
        out.append(reply())
    sock.close()
    return out


def test_bdat_roundtrip(mta):
    body = TRICKY + b"not terminated by CRLF"
    half = len(body) // 2
    r = _raw_smtp(mta, "mx", [
        b"EHLO client.test\r\n",
        b"MAIL FROM:<sender@elsewhere.test> BODY=8BITMIME\r\n",
        b"RCPT TO:<dave@example.test>\r\n",
        b"BDAT %d\r\n" % half + body[:half],
        b"BDAT %d LAST\r\n" % (len(body) - half) + body[half:],
        b"QUIT\r\n",
    ])
    assert [x[-1][:3] for x in r] == [b"220", b"250", b"250", b"250", b"250", b"250", b"221"], r
    (raw,) = mta.wait_for_messages("dave", 1)
    # BDAT is not dot-stuffed; the unterminated last line gets a line end.
    assert TestMTA.strip_trace(raw) == body + b"\r\n"


def test_strip_trace_unit():
    raw = (b"Return-Path: <a@b>\nX-Original-To: x@example.test\nDelivered-To: x@example.test\n"
           b"Received: from [127.0.0.1] (unknown [127.0.0.1])\n\tby localhost (Postfix) with ESMTP id X;\n"
           b"\tSat, 1 Jan 2000 00:00:00 +0000 (UTC)\n"
           b"Received: by the client itself\n\tcontinued\nSubject: s\n\nbody\n")
    assert TestMTA.strip_trace(raw) == (b"Received: by the client itself\r\n\tcontinued\r\nSubject: s\r\n"
                                        b"\r\nbody\r\n")
    assert TestMTA.strip_trace(b"Subject: untouched\n\nx\n") == b"Subject: untouched\r\n\r\nx\r\n"


# --------------------------------------------------------------------------- volume

def test_100_recipients_same_mailbox(mta):
    rcpts = ["alice+%d@example.test" % i for i in range(1, 101)]
    s = submission_session(mta)
    try:
        s.login(BOB, mta.users[BOB])
        assert s.sendmail(BOB, rcpts, b"Subject: many\r\n\r\nhello\r\n") == {}
    finally:
        s.quit()
    msgs = mta.wait_for_messages("alice", 100)
    assert len(msgs) == 100
    got = sorted(m.split(b"Delivered-To: ")[1].split(b"\n")[0].decode() for m in msgs)
    assert got == sorted(rcpts)
    assert all(TestMTA.strip_trace(m) == b"Subject: many\r\n\r\nhello\r\n" for m in msgs)


def test_500_recipients_accepted(mta):
    rcpts = ["carol+%d@example.test" % i for i in range(500)]
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=30) as s:
        assert s.sendmail("x@elsewhere.test", rcpts, b"Subject: 500\r\n\r\nx\r\n") == {}
    assert len(mta.wait_for_messages("carol", 500, timeout=30)) == 500


# --------------------------------------------------------------------------- helpers

def test_readback_helpers(mta):
    assert mta.messages("alice") == []
    with pytest.raises(MTATimeout) as ei:
        mta.wait_for_messages("alice", 1, timeout=0.2)
    assert "postfix.log" in str(ei.value)
    with pytest.raises(ValueError):
        mta.messages("zed")
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        for i in range(3):
            s.sendmail("", ["alice@example.test"], b"Subject: n%d\r\n\r\nx\r\n" % i)
            mta.wait_for_messages("alice", i + 1)
    msgs = mta.messages("alice@example.test")
    assert [m.split(b"Subject: ")[1][:2] for m in msgs] == [b"n0", b"n1", b"n2"]  # delivery order
    assert mta.messages("alice+whatever") == msgs
    mta.clear()
    assert mta.messages("alice") == []
    tail = mta.log_tail(20)
    assert "postfix.log" in tail and "dovecot.log" in tail
    assert len([l for l in tail.splitlines() if "postfix/" in l]) <= 20


# --------------------------------------------------------------------------- lifecycle

def _session_members(sids):
    return [pid for pid, pgid, sid in _proc_sessions() if sid in sids or pgid in sids]


def test_second_instance_and_clean_stop(mta, tmp_path):
    other = TestMTA(tmp_path / "second")
    other.start()
    try:
        assert set(other.ports.values()).isdisjoint(mta.ports.values())
        sids = set(other._sessions)
        assert len(_session_members(sids)) >= 4
        with smtplib.SMTP(other.host, other.ports["mx"], timeout=10) as s:
            s.sendmail("", ["bob@example.test"], b"Subject: other\r\n\r\nx\r\n")
        assert len(other.wait_for_messages("bob", 1)) == 1
        assert mta.messages("bob") == []
    finally:
        other.stop()
    assert _session_members(sids) == []
    other.stop()  # idempotent
    # the session instance is unaffected
    with smtplib.SMTP(mta.host, mta.ports["mx"], timeout=10) as s:
        assert s.noop()[0] == 250


def test_failed_start_cleans_up(tmp_path, monkeypatch):
    m = TestMTA(tmp_path / "fail")

    def boom(self, deadline):
        raise MTAStartError("simulated failure")

    monkeypatch.setattr(TestMTA, "_check_ready", boom)
    seen = []
    orig_spawn = TestMTA._spawn

    def spawn(self, argv, out):
        p = orig_spawn(self, argv, out)
        seen.append(p.pid)
        return p

    monkeypatch.setattr(TestMTA, "_spawn", spawn)
    with pytest.raises(MTAStartError) as ei:
        m.start()
    assert "simulated failure" in str(ei.value) and "log tail" in str(ei.value)
    assert len(seen) == 2
    assert _session_members(set(seen)) == []


def test_cli_serve(tmp_path):
    workdir = tmp_path / "cli"
    p = subprocess.Popen(["/usr/bin/python3", MTA_PY, "serve", "--workdir", str(workdir)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        info = json.loads(line)
        assert info["maildir"] == str(workdir / "maildir")
        assert info["users"][ALICE] == "correct horse battery"
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        with smtplib.SMTP_SSL("127.0.0.1", info["ports"]["smtps"], context=ctx, timeout=10) as s:
            s.login(ALICE, info["users"][ALICE])
        sids = set()
        for pidfile in (workdir / "postfix/spool/pid/master.pid", workdir / "dovecot/run/master.pid"):
            sids.add(int(pidfile.read_text().split()[0]))
        assert _session_members(sids)
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
        assert _session_members(sids) == []
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_daemons_die_with_killed_parent(tmp_path):
    """SIGKILL the Python process that owns the MTA: its watchdog cleans up."""
    workdir = tmp_path / "orphan"
    p = subprocess.Popen(["/usr/bin/python3", MTA_PY, "serve", "--workdir", str(workdir)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline(), p.stderr.read()
        sids = {int((workdir / f).read_text().split()[0])
                for f in ("postfix/spool/pid/master.pid", "dovecot/run/master.pid")}
        assert _session_members(sids)
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 10
    while _session_members(sids):
        assert time.monotonic() < deadline, _session_members(sids)
        time.sleep(0.05)
