"""The security notes (../shared/notes/security.md) re-shown through the Python
binding's own API (Message, Client, Pool and the smtplib drop-in); tests/SECURITY.md
maps each note to its tests. A binding can reopen what the core closed: a str
with an embedded NUL would be cut short as a C string, and a path or value the
binding handles itself never meets the core's checks. So every string argument
is tried with NUL (and CR/LF), and the wire is read back from the fault server."""
import base64
import email
import email.policy
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

import smtpcore
from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps
from pyhelpers import ALICE, BOB
from smtpcore import smtplib as core_smtplib

MSG = b"Subject: security\r\n\r\nbody\r\n"


def client_bytes(srv):
    """Everything the client sent on the server's last connection."""
    return b"".join(data for d, data in srv.transcript if d == "C")


def simple(**kw):
    kw.setdefault("seed", 1)
    return smtpcore.Message(from_=ALICE, to=BOB, subject="security", text="body\n", **kw)


# ----------------------------------------------------------------- SMTP smuggling

# The patterns of the 2023 SMTP smuggling advisories, and the bytes they must become on the wire
# (the same pair as tests/integration/test_faults.py::test_smuggling_patterns_on_the_wire).
SMUGGLING_BODY = b"Subject: x\r\n\r\na\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r\n.\rf\r\n..g\r\n.\r\nh"
SMUGGLING_WIRE = (b"Subject: x\r\n\r\na\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n"
                  b"...g\r\n..\r\nh\r\n")
SMUGGLING_TEXT = SMUGGLING_BODY.split(b"\r\n\r\n", 1)[1].decode()


class Dribble(io.RawIOBase):
    """A source that gives 1, 2, 3, 1, 2, 3 ... bytes per read (starting at `phase`), so that the
    binding hands the core chunks that split every pattern at every possible place."""

    def __init__(self, data, phase=0):
        self.data, self.pos, self.n = data, 0, phase

    def readable(self):
        return True

    def readinto(self, b):
        self.n = self.n % 3 + 1
        chunk = self.data[self.pos:self.pos + min(self.n, len(b))]
        b[:len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def data_server(chunking=False):
    caps = ["8BITMIME"] + (["CHUNKING"] if chunking else [])
    steps = greet_ehlo(caps) + [{"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"}]
    if chunking:
        steps += [{"read_bdat": True, "until_last": True, "reply": "250 2.0.0 ok\r\n"}]
    else:
        steps += [{"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 2.0.0 ok\r\n"}]
    return FaultServer(steps + quit_steps())


def wire_content(srv, chunking):
    if chunking:
        assert srv.bdat and srv.bdat[-1][1], "BDAT LAST was sent"
        return b"".join(chunk for chunk, _ in srv.bdat)
    (data,) = srv.data
    return data


def assert_no_smuggling(wire, chunking):
    """No bare CR or LF; with DATA every line-initial dot doubled and no early end of data."""
    assert wire.endswith(b"\r\n")
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", wire) is None, wire
    if not chunking:
        assert b"\r\n.\r\n" not in wire and not wire.startswith(b".\r\n")
        for line in wire.split(b"\r\n"):
            assert not line.startswith(b".") or line.startswith(b".."), line


def unstuff(wire):
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in wire.split(b"\r\n"))


def _send_raw_bytes(port, body):
    with smtpcore.Client("127.0.0.1", port, security="none", timeout=5) as c:
        assert c.send_raw(body, ALICE, [BOB]).ok


def _send_raw_dribbled_phase(phase):
    def send(port, body):
        with smtpcore.Client("127.0.0.1", port, security="none", timeout=5) as c:
            assert c.send_raw(Dribble(body, phase), ALICE, [BOB]).ok
    return send


def _pool_send_raw(port, body):
    with smtpcore.Pool("127.0.0.1", port, security="none", size=1, timeout=5) as p:
        assert p.send_raw(body, ALICE, [BOB]).ok


def _smtplib_sendmail(port, body):
    with core_smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
        assert s.sendmail(ALICE, [BOB], body) == {}


FRONT_DOORS = {"Client.send_raw(bytes)": _send_raw_bytes,
               "Client.send_raw(file, chunks 1-2-3)": _send_raw_dribbled_phase(0),
               "Client.send_raw(file, chunks 2-3-1)": _send_raw_dribbled_phase(1),
               "Client.send_raw(file, chunks 3-1-2)": _send_raw_dribbled_phase(2),
               "Pool.send_raw": _pool_send_raw,
               "smtplib.SMTP.sendmail": _smtplib_sendmail}


@pytest.mark.parametrize("chunking", [False, True], ids=["DATA", "BDAT"])
@pytest.mark.parametrize("door", list(FRONT_DOORS))
def test_smuggling_patterns_on_the_wire(door, chunking):
    """SMTP smuggling: every advisory pattern, through each way Python sends raw bytes (also from
    a file read 1-3 bytes at a time): exact wire bytes, no bare CR/LF, dots doubled with DATA,
    exactly one end of data (the server's script then expects QUIT and nothing else)."""
    with data_server(chunking) as srv:
        FRONT_DOORS[door](srv.port, SMUGGLING_BODY)
        srv.assert_ok(timeout=10)
    wire = wire_content(srv, chunking)
    assert_no_smuggling(wire, chunking)
    assert wire == (SMUGGLING_WIRE if not chunking else unstuff(SMUGGLING_WIRE))


@pytest.mark.parametrize("chunking", [False, True], ids=["DATA", "BDAT"])
def test_smuggling_patterns_in_a_composed_message(chunking):
    """The same patterns as the text and HTML of a Message: on the wire the rendered message
    (no bare CR/LF, dots doubled with DATA, nothing ends the data early)."""
    m = smtpcore.Message(from_=ALICE, to=BOB, subject="smuggling", text=SMUGGLING_TEXT,
                         html=SMUGGLING_TEXT.replace("h", "<b>h</b>"), seed=3)
    with data_server(chunking) as srv:
        with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5) as c:
            assert c.send(m).ok
        srv.assert_ok(timeout=10)
    wire = wire_content(srv, chunking)
    assert_no_smuggling(wire, chunking)
    rendered = m.as_bytes(eight_bit=True)
    assert (unstuff(wire) if not chunking else wire) == rendered
    # Read back, the text is the caller's with CRLF line ends (bare CR and LF are line breaks).
    got = email.message_from_bytes(rendered, policy=email.policy.default)
    text = got.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == re.sub(r"\r\n|\r|\n", "\n", SMUGGLING_TEXT) + "\n"


# ------------------------------------------------------------------ STARTTLS

STARTTLS_CAPS = ["STARTTLS", "AUTH PLAIN LOGIN", "PIPELINING", "8BITMIME"]


@pytest.mark.parametrize("security", ["starttls", "opportunistic"])
@pytest.mark.parametrize("reply", ["454 4.7.0 TLS not available", "501 5.5.4 Syntax error"])
def test_starttls_refused_ends_before_auth_or_mail(security, reply):
    """STARTTLS stripping: a 454 or 501 to STARTTLS is a TLSError; nothing follows STARTTLS (no
    AUTH in clear, no MAIL), also in opportunistic mode when a password is set."""
    srv = FaultServer(greet_ehlo(STARTTLS_CAPS) + [{"expect": "STARTTLS"}, {"send": reply + "\r\n"},
                                                   {"wait_close": 3}])
    with srv:
        c = smtpcore.Client("127.0.0.1", srv.port, security=security, username=ALICE, password="pw-secret",
                            timeout=5)
        with pytest.raises(smtpcore.TLSError):
            c.send(simple())
        c.close()
        srv.wait_done(5)
    sent = client_bytes(srv)
    assert sent.startswith(b"EHLO ") and sent.count(b"EHLO") == 1
    after = sent.partition(b"STARTTLS\r\n")[2]
    assert after in (b"", b"QUIT\r\n"), sent
    assert b"pw-secret" not in sent


def test_starttls_missing_in_required_mode_sends_nothing_more():
    """STARTTLS stripping: the server does not offer STARTTLS (but offers AUTH): TLSError right
    after EHLO; neither AUTH nor MAIL is sent."""
    srv = FaultServer(greet_ehlo(["AUTH PLAIN LOGIN", "PIPELINING"]) + [{"wait_close": 3}])
    with srv:
        c = smtpcore.Client("127.0.0.1", srv.port, username=ALICE, password="pw-secret", timeout=5)
        with pytest.raises(smtpcore.TLSError) as info:
            c.send(simple())
        c.close()
        srv.wait_done(5)
    assert "STARTTLS" in info.value.message
    assert re.sub(rb"^EHLO [^\r\n]*\r\n", b"", client_bytes(srv)) in (b"", b"QUIT\r\n"), client_bytes(srv)


def test_smtplib_login_after_a_refused_starttls_is_not_sent_in_clear():
    """smtplib CVE-2016-0772 through the drop-in: starttls() returns the server's 454 (as smtplib
    does), and the login() that tutorial code runs next is refused instead of going in clear."""
    srv = FaultServer(greet_ehlo(STARTTLS_CAPS) + [{"expect": "STARTTLS"}, {"send": "454 4.7.0 TLS not available\r\n"},
                                                   {"expect": "QUIT"}, {"send": "221 bye\r\n"}])
    with srv:
        s = core_smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
        assert s.starttls()[0] == 454
        with pytest.raises(core_smtplib.SMTPException) as info:
            s.login(ALICE, "pw-secret")
        assert isinstance(info.value, smtpcore.TLSError)
        s.quit()
        srv.assert_ok(timeout=5)
    assert b"AUTH" not in client_bytes(srv) and b"pw-secret" not in client_bytes(srv)


def test_smtplib_starttls_response_injection_sends_nothing_in_clear():
    """STARTTLS response injection through the drop-in: the forged lines after "220" are not
    used; the session ends, and neither login() nor sendmail() puts anything on the wire."""
    srv = FaultServer(greet_ehlo(["STARTTLS", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 2.0.0 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"}, {"wait_close": 3}])
    with srv:
        s = core_smtplib.SMTP("127.0.0.1", srv.port, timeout=5, allow_plaintext_auth=True)
        try:
            s.starttls()
        except core_smtplib.SMTPException:
            pass
        assert not s.has_extn("xfake")
        with pytest.raises(core_smtplib.SMTPException):
            s.login(ALICE, "pw-secret")
        with pytest.raises(core_smtplib.SMTPException):
            s.sendmail(ALICE, [BOB], MSG)
        s.close()
        srv.wait_done(5)
    assert client_bytes(srv).partition(b"STARTTLS\r\n")[2] == b""


def test_smtplib_starttls_reports_a_response_injection():
    """STARTTLS response injection through the drop-in: starttls() must not report success (220)
    for a session the core has closed because of the injection."""
    srv = FaultServer(greet_ehlo(["STARTTLS", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 2.0.0 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"}, {"wait_close": 3}])
    with srv:
        s = core_smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
        try:
            with pytest.raises(core_smtplib.SMTPException):
                s.starttls()
        finally:
            s.close()


# ------------------------------------------------------- NUL, CR and LF in arguments

def _message_cases(bad):
    """(name, callable, exception) for every string argument of Message."""
    addr = "a%s@example.test" % bad
    named = "Al%sice <alice@example.test>" % bad
    m = smtpcore.Message
    return [
        ("from", lambda: m(from_=addr), smtpcore.UsageError),
        ("from display name", lambda: m(from_=named), smtpcore.UsageError),
        ("to", lambda: m(to=[BOB, addr]), smtpcore.UsageError),
        ("to display name", lambda: m(to=named), smtpcore.UsageError),
        ("cc", lambda: m(cc=addr), smtpcore.UsageError),
        ("bcc", lambda: m(bcc=addr), smtpcore.UsageError),
        ("reply_to", lambda: m(reply_to=addr), smtpcore.UsageError),
        ("sender", lambda: m(sender=addr), smtpcore.UsageError),
        ("envelope_sender", lambda: m(envelope_sender=addr), smtpcore.UsageError),
        ("subject", lambda: m(subject="hi%sBcc: evil@example.test" % bad), smtpcore.UsageError),
        ("header name", lambda: m(headers=[("X-A%sB" % bad, "v")]), smtpcore.UsageError),
        ("header value", lambda: m(headers=[("X-A", "v%sBcc: evil@example.test" % bad)]), smtpcore.UsageError),
        ("Message-ID", lambda: m(headers=[("Message-ID", "<a%sb@example.test>" % bad)]), smtpcore.UsageError),
        ("attachment file name", lambda: m(attachments=[("a%s.txt" % bad, b"x")]), smtpcore.UsageError),
        ("attachment file name for a path", lambda: m().attach(__file__, filename="a%s.txt" % bad),
         smtpcore.UsageError),
        ("attachment content type", lambda: m().attach(b"x", "a.txt", "text/plain%s" % bad), smtpcore.UsageError),
        ("attachment path", lambda: m(attachments=[__file__ + bad]), ValueError),
        ("inline content id", lambda: m().embed(b"x", "logo%s" % bad), smtpcore.UsageError),
        ("inline file name", lambda: m().embed(b"x", "logo", filename="l%s.png" % bad), smtpcore.UsageError),
        ("inline path", lambda: m().embed(__file__ + bad, "logo"), ValueError),
        ("calendar method", lambda: m().set_calendar("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "REQUEST%s" % bad),
         smtpcore.UsageError),
        ("DKIM domain", lambda: m().add_dkim("example%s.test" % bad, "s1", "not a key"), smtpcore.SMTPError),
    ]


def _client_cases(bad):
    c = smtpcore.Client
    return [
        ("host", lambda: c("smtp%s.example.test" % bad), smtpcore.UsageError),
        ("EHLO name", lambda: c("localhost", ehlo_name="client%s.example.test" % bad), smtpcore.UsageError),
        ("user name", lambda: c("localhost", username="alice%sx" % bad, password="pw"), smtpcore.UsageError),
        ("password", lambda: c("localhost", username=ALICE, password="s3cr3t%sAUTH" % bad), smtpcore.UsageError),
        ("OAuth2 token", lambda: c("localhost", username=ALICE, oauth2_token="tok3n%sx" % bad),
         smtpcore.UsageError),
        ("TLS server name", lambda: c("localhost", tls_server_name="smtp%s.example.test" % bad),
         smtpcore.UsageError),
        ("CA file", lambda: c("localhost", ca_file="/etc/ssl/certs/ca%s.pem" % bad), smtpcore.UsageError),
        ("Pool password", lambda: smtpcore.Pool("localhost", username=ALICE, password="s3cr3t%sx" % bad),
         smtpcore.UsageError),
    ]


@pytest.mark.parametrize("bad", ["\0", "\r\n", "\n", "\r"], ids=["NUL", "CRLF", "LF", "CR"])
def test_message_arguments_refuse_nul_and_line_breaks(bad):
    """Command and header injection: NUL, CR or LF in any address, display name, subject, header
    name or value, file name, content id or type is refused (UsageError, a ValueError; a path
    with NUL is os.fsencode's ValueError) instead of being cut short or passed on; the message
    is left as it was."""
    for name, make, exc in _message_cases(bad):
        if bad != "\0" and name in ("attachment path", "inline path"):
            continue  # a line break is a legal path character: then the file does not exist
        with pytest.raises(exc) as info:
            make()
        if exc is smtpcore.UsageError:
            assert isinstance(info.value, smtpcore.UsageError), (name, info.value)
    m = simple()
    before = m.as_bytes()
    for call in (lambda: m.set_subject("x%sy" % bad), lambda: m.add_to("c%s@example.test" % bad),
                 lambda: m.add_header("X-Y", "z%sw" % bad)):
        with pytest.raises(smtpcore.UsageError):
            call()
    assert m.as_bytes() == before


@pytest.mark.parametrize("bad", ["\0", "\r\n", "\n"], ids=["NUL", "CRLF", "LF"])
def test_client_arguments_refuse_nul_and_line_breaks(bad):
    """Command injection in the EHLO name, AUTH arguments and connection settings: refused when the
    Client (or Pool) is made, before any connection; a secret is never echoed in the error."""
    for name, make, exc in _client_cases(bad):
        with pytest.raises(exc) as info:
            make()
        assert isinstance(info.value, smtpcore.UsageError), (name, info.value)
        assert "s3cr3t" not in str(info.value) and "tok3n" not in str(info.value), name


@pytest.mark.parametrize("bad", ["\0", "\r\nRCPT TO:<evil@example.test>"], ids=["NUL", "CRLF"])
def test_envelope_arguments_are_refused_before_connecting(bad):
    """Command injection in MAIL FROM / RCPT TO given to send_raw (Client and Pool): a usage
    error before anything is written (the server never sees a connection)."""
    srv = FaultServer([{"send": "220 hi\r\n"}, {"wait_close": 2}])
    with srv:
        with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5) as c:
            for sender, rcpts in ((ALICE + bad, [BOB]), (ALICE, [BOB, "c@example.test" + bad]),
                                  (ALICE, ["b" + bad + "@example.test"])):
                with pytest.raises(smtpcore.UsageError):
                    c.send_raw(MSG, sender, rcpts)
                with pytest.raises(smtpcore.UsageError):
                    c.send(io.BytesIO(MSG), sender=sender, recipients=rcpts)
            assert not c.connected
        with smtpcore.Pool("127.0.0.1", srv.port, security="none", size=1, timeout=5) as p:
            with pytest.raises(smtpcore.UsageError):
                p.send_raw(MSG, ALICE, [BOB + bad])
            with pytest.raises(smtpcore.UsageError):
                p.send(simple(), sender=ALICE + bad)
        time.sleep(0.2)
        assert srv.conns == []


@pytest.mark.parametrize("bad", ["\0", "\r\nRCPT TO:<evil@example.test>"], ids=["NUL", "CRLF"])
def test_message_with_a_bad_explicit_envelope_writes_no_transaction(bad):
    """Command injection through Client.send(Message, sender=, recipients=): refused, and no MAIL,
    RCPT or DATA is written. (This path checks the envelope only once the session is open, so
    EHLO has been sent: see tests/SECURITY.md, Gaps.)"""
    srv = FaultServer(greet_ehlo(["8BITMIME"]) + [{"wait_close": 3}], max_connections=2)
    with srv:
        for kw in ({"sender": ALICE + bad}, {"recipients": [BOB, "c@example.test" + bad]}):
            with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5) as c:
                with pytest.raises(smtpcore.UsageError):
                    c.send(simple(), **kw)
        srv.wait_all_done(5)
    for conn in srv.conns:
        sent = b"".join(data for d, data in conn.transcript if d == "C")
        assert re.sub(rb"^EHLO [^\r\n]*\r\n", b"", sent) in (b"", b"QUIT\r\n"), sent


def test_smtplib_arguments_refuse_nul_and_line_breaks():
    """Command injection through the drop-in: EHLO name, login() user and password, sendmail()
    addresses and the DSN parameters (ENVID, ORCPT) with NUL, CR or LF raise ValueError; the
    server sees EHLO and QUIT and nothing else."""
    srv = FaultServer(greet_ehlo(["AUTH PLAIN LOGIN", "DSN", "8BITMIME"]) + [{"expect": "QUIT"},
                                                                            {"send": "221 bye\r\n"}])
    with srv:
        s = core_smtplib.SMTP("127.0.0.1", srv.port, timeout=5, allow_plaintext_auth=True)
        for bad in ("\0", "\r\n"):
            with pytest.raises(ValueError):
                s.ehlo("client%s.example.test" % bad)
        assert s.ehlo()[0] == 250
        for bad in ("\0", "\r\n", "\n"):
            for user, password in (("alice%s" % bad, "pw"), (ALICE, "s3cr3t%sx" % bad)):
                with pytest.raises(ValueError) as info:
                    s.login(user, password)
                assert "s3cr3t" not in str(info.value)
            evil = bad + "RCPT TO:<evil@example.test>"
            cases = [(ALICE + evil, [BOB]), (ALICE, [BOB + evil]),
                     (ALICE, [BOB], ["ENVID=abc%sRCPT TO:<evil@example.test>" % bad]),
                     (ALICE, [BOB], [], ["ORCPT=rfc822;b@example.test%sDATA" % bad])]
            if bad == "\0":  # CR/LF inside an address: see test_smtplib_line_break_inside_an_address_is_refused
                cases.append((ALICE, [BOB, "x%s@example.test" % bad]))
            for args in cases:
                with pytest.raises(ValueError):
                    s.sendmail(args[0], args[1], MSG, *args[2:])
        s.quit()
        srv.assert_ok(timeout=5)
    sent = client_bytes(srv)
    assert re.fullmatch(rb"EHLO [^\r\n\0]*\r\nQUIT\r\n", sent), sent


def test_smtplib_line_break_inside_an_address_is_refused():
    """Command injection through the drop-in: an address with a line break inside it must be
    refused, not rewritten ('x\\r\\n@example.test' would go out as RCPT TO:<x@example.test>)."""
    srv = FaultServer(greet_ehlo(["8BITMIME"]) + [{"expect": "QUIT"}, {"send": "221 bye\r\n"}])
    with srv:
        with core_smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
            try:
                with pytest.raises(ValueError):
                    s.sendmail(ALICE, [BOB, "x\r\n@example.test"], MSG)
            except BaseException:
                s.close()
                raise


# -------------------------------------------------------------- header injection

def test_headers_read_back_exactly():
    """Header injection (nodemailer CVE-2021-23400, Python CVE-2024-6923): awkward but legal
    values (quotes, commas, '@', '=?' that looks like an encoded word, non-ASCII, long words) in
    the subject, display names, a custom header and attachment names come back exactly from
    Python's email parser, with exactly the headers we wrote."""
    subject = u'Gr\u00fc\u00dfe "quoted" =?UTF-8?B?ZmFrZQ==?= ' + "w" * 90 + " end"
    from_name = 'Doe, "Jane" @ Example =?utf-8?q?x?='
    to_name = u"Jos\u00e9 \u00dcn\u00efcode <not@this.test>"
    value = u"v =?utf-8?q?fake?= \u00fc " + "x" * 120
    names = ['a "quoted"; name=x.txt', u"\u00dcn\u00ef \u00e7\u00f8d\u00e9 " + "n" * 80 + ".pdf", "plain.txt"]

    def q(name):
        return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')

    m = smtpcore.Message(from_="%s <%s>" % (q(from_name), ALICE), to="%s <%s>" % (q(to_name), BOB),
                         subject=subject, text="body\n", headers=[("X-Tricky", value)], seed=5,
                         attachments=[(n, ("data %d" % i).encode()) for i, n in enumerate(names)])
    for raw in (m.as_bytes(), m.as_bytes(eight_bit=True, smtputf8=True)):
        if max(raw) >= 0x80:
            got = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
        else:
            got = email.message_from_bytes(raw, policy=email.policy.default)
        assert sorted(k.lower() for k in got.keys()) == sorted(
            ["date", "from", "to", "subject", "message-id", "mime-version", "content-type", "x-tricky"])
        assert got["Subject"] == subject
        assert got["X-Tricky"] == value
        (frm,) = got["From"].addresses
        (to,) = got["To"].addresses
        assert (frm.display_name, frm.addr_spec) == (from_name, ALICE)
        assert (to.display_name, to.addr_spec) == (to_name, BOB)
        files = {p.get_filename(): p.get_payload(decode=True) for p in got.iter_attachments()}
        assert files == {n: ("data %d" % i).encode() for i, n in enumerate(names)}


# ------------------------------------------------------ address parser differentials

def test_envelope_addresses_are_the_header_addresses():
    """Address differentials (Python CVE-2023-27043, nodemailer CVE-2025-13033): with '@' in display
    names and in a quoted local part, and an IDN domain, MAIL FROM and RCPT TO carry exactly the
    addresses Python's email parser reads from the headers; the CVE payloads are refused."""
    m = smtpcore.Message(from_='"attacker@evil.test" <me@example.test>',
                         to=['"x@evil.test" <"odd@local"@example.test>', '"Name, With Comma" <you@example.test>',
                             u"B\u00fccher <info@b\u00fccher.example>"],
                         subject="x", text="y", seed=4)
    srv = FaultServer(greet_ehlo(["8BITMIME"]) + [{"expect": "MAIL"}, {"send": "250 ok\r\n"}] +
                      [{"expect": "RCPT"}, {"send": "250 ok\r\n"}] * 3 +
                      [{"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 ok\r\n"}] +
                      quit_steps())
    with srv:
        with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5) as c:
            assert c.send(m).ok
        srv.assert_ok(timeout=5)
    sent = client_bytes(srv).decode()
    mail = re.findall(r"MAIL FROM:<([^\r\n]*?)>(?: |\r\n)", sent)
    rcpts = re.findall(r"RCPT TO:<([^\r\n]*?)>(?: |\r\n)", sent)
    got = email.message_from_bytes(unstuff(srv.data[0]), policy=email.policy.default)
    assert mail == [a.addr_spec for a in got["From"].addresses] == ["me@example.test"]
    assert rcpts == [a.addr_spec for a in got["To"].addresses] == [
        '"odd@local"@example.test', "you@example.test", "info@xn--bcher-kva.example"]
    assert m.envelope() == (mail[0], rcpts)
    for payload in ("alice@example.org)<bob@example.org>", "alice@example.org]<bob@example.org>",
                    "alice@example.org <bob@example.org>"):
        with pytest.raises(smtpcore.UsageError):
            smtpcore.Message(to=payload)
        with pytest.raises(smtpcore.UsageError):
            smtpcore.Client("127.0.0.1", 9, security="none").send_raw(MSG, ALICE, [payload])


# ------------------------------------------------------- attachment names and paths

@pytest.fixture
def special_files(tmp_path):
    """Paths that are not plain files: devices, a FIFO, a directory, URLs."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return ["/dev/zero", "/dev/urandom", "/dev/stdin", str(fifo), str(tmp_path),
            "phar://" + str(tmp_path / "x.phar") + "/a.txt", "file:///etc/passwd", "http://example.test/a.txt"]


def test_attachments_are_read_from_plain_files_only(special_files):
    """Attachment paths (PHPMailer CVE-2018-19296 phar://, CVE-2017-5223): attach(), embed(), and
    the constructor's path forms refuse devices, FIFOs, directories and URLs, at once (a FIFO
    would block, /dev/zero never end)."""
    for path in special_files:
        for make in (lambda: smtpcore.Message().attach(path),
                     lambda: smtpcore.Message().attach(path, filename="x.txt", content_type="text/plain"),
                     lambda: smtpcore.Message().embed(path, "logo"),
                     lambda: smtpcore.Message(attachments=[path]),
                     lambda: smtpcore.Message(attachments=[{"path": path, "filename": "x.bin"}]),
                     lambda: smtpcore.Message(inline={"logo": path})):
            t0 = time.monotonic()
            with pytest.raises(smtpcore.SMTPError) as info:
                make()
            assert info.value.category in ("usage", "local"), (path, info.value)
            assert time.monotonic() - t0 < 2, path


def test_inline_part_with_its_own_name_is_read_from_a_plain_file_only(tmp_path):
    """Attachment paths: an inline image given a part name of its own must be refused the same
    way when the path is a FIFO. Run in a child process: the bug blocks forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = textwrap.dedent("""
        import sys, smtpcore
        try:
            smtpcore.Message().embed(sys.argv[1], "logo", filename="logo.png")
        except smtpcore.SMTPError as e:
            print("refused", e.category)
    """)
    try:
        r = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("embed(FIFO, filename=...) blocked")
    assert r.stdout.split()[:1] == ["refused"], (r.stdout, r.stderr)


def test_attachment_content_is_never_taken_as_a_path():
    """Nothing in the data picks a local file: a str given as the content of an attachment or
    inline part (tuple or dict form) is sent as text, never opened."""
    m = smtpcore.Message(from_=ALICE, to=BOB, text="x", seed=2, html="<img src='cid:logo'>",
                         attachments=[("passwd.txt", "/etc/passwd"), {"data": "/etc/hostname", "filename": "h.txt"}],
                         inline=[{"data": "/etc/passwd", "cid": "logo", "filename": "logo.png"}])
    got = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
    bodies = sorted(p.get_payload(decode=True) for p in got.walk() if p.get_filename())
    assert bodies == [b"/etc/hostname", b"/etc/passwd", b"/etc/passwd"]
    with pytest.raises(TypeError):  # a PathLike as content is a mistake, not a path
        smtpcore.Message(attachments=[("x.txt", pathlib.Path("/etc/passwd"))])


# ------------------------------------------------------------------------- shell

PROCESS_FUNCTIONS = {"system", "popen", "execl", "execle", "execlp", "execv", "execve", "execvp", "execvpe",
                     "fexecve", "fork", "vfork", "posix_spawn", "posix_spawnp", "wordexp"}


def test_the_binding_cannot_start_a_shell_or_program():
    """Shell (PHPMailer CVE-2016-10033, nodemailer CVE-2020-7769): the extension module imports no
    function that runs a program, and the package's Python code uses none."""
    if not shutil.which("nm"):
        pytest.skip("nm (binutils) is not installed")
    so = smtpcore._core.__file__
    out = subprocess.run(["nm", "-u", "-D", so], check=True, capture_output=True, text=True).stdout
    symbols = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip().startswith("U ")}
    assert "connect" in symbols and "SSL_set1_host" in symbols  # the method works
    assert not symbols & PROCESS_FUNCTIONS, sorted(symbols & PROCESS_FUNCTIONS)
    pkg = os.path.dirname(smtpcore.__file__)
    pattern = re.compile(r"\b(subprocess|os\.(system|popen|exec\w*|spawn\w*|fork\w*|posix_spawn\w*)|pty)\b")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            with open(os.path.join(pkg, name), encoding="utf-8") as f:
                assert not pattern.search(f.read()), name


# ------------------------------------------------------- replies, SASL, faults

def test_garbage_and_oversized_replies_are_protocol_errors():
    """Reply parser: not SMTP at all, a 10 MB reply line, 100 000 reply lines: a ProtocolError
    quickly, never a crash or a buffer of the whole reply."""
    scripts = {"garbage": [{"send": "HTTP/1.1 400 Bad Request\r\n\r\n"}, {"wait_close": 3}],
               "too long": [{"send_big_line": 10 * 1024 * 1024, "prefix": "220 "}],
               "too many lines": [{"send": "220 hi\r\n"}, {"expect": "EHLO"},
                                  {"send_repeat": "250-X\r\n", "count": 100000}]}
    for what, script in scripts.items():
        with FaultServer(script, timeout=15) as srv:
            t0 = time.monotonic()
            with pytest.raises(smtpcore.ProtocolError) as info:
                smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=10).connect()
            assert time.monotonic() - t0 < 5, what
        if what != "garbage":
            assert what in info.value.message, info.value.message


@pytest.mark.parametrize("mech, challenge", [
    ("CRAM-MD5", "!!! not base64 !!!"),
    ("CRAM-MD5", base64.b64encode(b"<1.2@x>" * 3000).decode()),
    ("SCRAM-SHA-256", "!!! not base64 !!!"),
    ("SCRAM-SHA-256", base64.b64encode(b"r=notyournonce,s=QSXCR+Q6sek8bf92,i=4096").decode()),
], ids=["cram-bad-base64", "cram-huge", "scram-bad-base64", "scram-forged-nonce"])
def test_malformed_sasl_challenges_are_refused(mech, challenge):
    """SASL decoders (curl CVE-2013-0249): a malformed, oversized or forged challenge ends the
    exchange with an error; no proof of the password is sent."""
    srv = FaultServer(greet_ehlo(["AUTH " + mech]) + [
        {"expect": "AUTH " + mech}, {"send": "334 " + challenge + "\r\n"}, {"wait_close": 3}], timeout=5)
    with srv:
        c = smtpcore.Client("127.0.0.1", srv.port, security="none", allow_plaintext_auth=True, username=ALICE,
                            password="pencil", auth_mechanism=mech, timeout=5)
        with pytest.raises((smtpcore.AuthError, smtpcore.ProtocolError)):
            c.connect()
        c.close()
        srv.wait_done(5)
    lines = client_bytes(srv).split(b"\r\n")
    assert lines[1].startswith(b"AUTH " + mech.encode()), lines
    assert all(line in (b"*", b"QUIT", b"") for line in lines[2:]), lines


def test_one_byte_at_a_time_cannot_stretch_the_timeout():
    """Faults: a 40-byte greeting at one byte per 100 ms (4 s) with a 1 s reply timeout."""
    with FaultServer([{"drip": "220 " + "x" * 34 + "\r\n", "interval": 0.1}], timeout=15) as srv:
        t0 = time.monotonic()
        with pytest.raises(smtpcore.TimeoutError):
            smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=1).connect()
        assert time.monotonic() - t0 < 2.0


def test_temporary_failure_of_one_recipient():
    """Faults: a 4xx for one recipient: the result names it with its code; the others got it."""
    t, p = "t@example.test", "p@example.test"
    srv = FaultServer(greet_ehlo(["8BITMIME", "ENHANCEDSTATUSCODES"]) + [
        {"expect": "MAIL"}, {"send": "250 2.1.0 ok\r\n"},
        {"expect": "RCPT"}, {"send": "450 4.2.0 <t@example.test>: greylisted\r\n"},
        {"expect": "RCPT"}, {"send": "250 2.1.5 ok\r\n"},
        {"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True},
        {"send": "250 2.0.0 queued as 12345\r\n"}] + quit_steps())
    with srv:
        with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5, pipelining=False) as c:
            r = c.send(smtpcore.Message(from_=ALICE, to=[t, p], text="x"))
        srv.assert_ok(timeout=5)
    assert not r.ok and r.accepted == [p]
    assert (r.refused[t].code, r.refused[t].enhanced_code) == (450, "4.2.0")


@pytest.mark.parametrize("chunking", [False, True], ids=["DATA", "BDAT"])
def test_no_reply_to_the_end_of_data_is_not_reported_sent(chunking):
    """Faults, nothing claimed: the server takes the whole message (final dot, or BDAT LAST) and
    closes without a reply: a ConnectError, and no result says the message was sent."""
    caps = ["8BITMIME"] + (["CHUNKING"] if chunking else [])
    steps = greet_ehlo(caps) + [{"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"}]
    if chunking:
        steps += [{"read_bdat": True, "until_last": True}]
    else:
        steps += [{"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}]
    with FaultServer(steps + [{"close": True}]) as srv:
        with smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5) as c:
            with pytest.raises(smtpcore.ConnectError) as info:
                c.send_raw(MSG, ALICE, [BOB])
        srv.wait_done(5)
    assert info.value.result is None or not info.value.result.ok
    assert srv.data or (srv.bdat and srv.bdat[-1][1]), "the server received the whole message"
