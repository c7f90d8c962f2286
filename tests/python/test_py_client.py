"""smtpcore.Client against the private Postfix + Dovecot: sending, every
security mode and AUTH mechanism, per-recipient results, one exception class
per failure (with codes and hints), transcripts with secrets redacted."""
import base64
import builtins
import email
import email.policy
import io
import os
import socket
import time
from email.message import EmailMessage

import pytest

import smtpcore
from pyhelpers import ALICE, ALICE_PW, BOB

pytestmark = pytest.mark.usefixtures("mta")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def simple(subject="hello", to=BOB, **kw):
    return smtpcore.Message(from_="Alice <%s>" % ALICE, to=to, subject=subject, text="Hello from Python.\n", **kw)


def test_plain_send_delivers_exact_bytes(clean, submission):
    msg = simple("plain send", seed=11)
    with smtpcore.Client(**submission) as client:
        assert not client.connected  # lazy: nothing happens before the first send
        result = client.send(msg)
        assert client.connected
    assert result.ok and result.code == 250 and result.enhanced_code == "2.0.0"
    assert "queued as" in result.message
    assert result.accepted == [BOB] and result.refused == {}
    assert [tuple(r) for r in result] == [(250, "2.1.5", "2.1.5 Ok")]
    delivered = clean.wait_for_messages("bob", 1)[0]
    assert clean.strip_trace(delivered) == msg.as_bytes(eight_bit=True)


def test_html_and_attachments_from_path_bytes_and_file(clean, submission, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(os.urandom(70000))
    blob = os.urandom(5000)
    fileobj = io.BytesIO(b"name,amount\nAlice,10\n")
    fileobj.name = "table.csv"
    msg = smtpcore.Message(from_=ALICE, to=BOB, subject=u"Gr\u00fc\u00dfe with files",
                           text=u"Text \u00e4\u00f6\u00fc", html=u"<p>HTML <img src='cid:dot'> \u2713</p>",
                           attachments=[pdf, ("blob.bin", blob)], inline={"dot": b"\x89PNG\r\n\x1a\nfake"})
    msg.attach(fileobj)
    with smtpcore.Client(**submission) as client:
        assert client.send(msg).ok
    got = parse(clean.wait_for_messages("bob", 1)[0])
    assert got["Subject"] == u"Gr\u00fc\u00dfe with files"
    assert got.get_body(("plain",)).get_content() == u"Text \u00e4\u00f6\u00fc\n"
    assert u"\u2713" in got.get_body(("html",)).get_content()
    files = {p.get_filename(): p.get_payload(decode=True) for p in got.iter_attachments()}
    assert files == {"report.pdf": pdf.read_bytes(), "blob.bin": blob, "table.csv": b"name,amount\nAlice,10\n"}
    inline = [p for p in got.walk() if p["Content-ID"] == "<dot>"]
    assert inline and inline[0].get_payload(decode=True) == b"\x89PNG\r\n\x1a\nfake"


@pytest.mark.parametrize("port, security, extra, tls, before", [
    ("submission", "starttls", {}, True, True),
    ("smtps", "tls", {}, True, False),
    ("submission", "opportunistic", {}, True, True),
    ("plain", "opportunistic", {"allow_plaintext_auth": True}, False, False),
    ("plain", "none", {"allow_plaintext_auth": True}, False, False),
])
def test_security_modes(clean, mta, port, security, extra, tls, before):
    with smtpcore.Client("localhost", mta.ports[port], security=security, username=ALICE, password=ALICE_PW,
                         ca_file=mta.ca_file, **extra) as client:
        result = client.send(simple("mode %s" % security))
        info = client.info
    assert result.ok
    assert info["tls"] is tls
    assert (info["ehlo_before_tls"] is not None) is before
    if tls:
        assert info["tls_version"] in ("TLSv1.2", "TLSv1.3")
    clean.wait_for_messages("bob", 1)


def test_starttls_required_but_not_offered(mta):
    with pytest.raises(smtpcore.TLSError) as info:
        smtpcore.Client("localhost", mta.ports["plain"], ca_file=mta.ca_file).connect()
    assert "STARTTLS" in info.value.message and info.value.hint


def test_no_password_over_clear_text(mta):
    with smtpcore.Client("localhost", mta.ports["plain"], security="none", username=ALICE, password=ALICE_PW,
                         transcript=True) as client:
        with pytest.raises(smtpcore.TLSError) as info:
            client.connect()
        assert not any(line.startswith("C: AUTH") for line in client.transcript)
    assert "unencrypted" in info.value.message


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"])
def test_each_auth_mechanism(mta, submission, mechanism):
    with smtpcore.Client(auth_mechanism=mechanism, transcript=True, **submission) as client:
        client.connect()
        assert client.info["auth_mechanism"] == mechanism
        assert client.noop()[0] == 250
        lines = client.transcript
    text = "\n".join(lines)
    assert "C: AUTH %s" % mechanism in text
    plain_ir = base64.b64encode(("\0%s\0%s" % (ALICE, ALICE_PW)).encode()).decode()
    for secret in (ALICE_PW, plain_ir, base64.b64encode(ALICE_PW.encode()).decode()):
        assert secret not in text
    assert "<redacted>" in text


def test_partial_failure_per_recipient(clean, mta):
    with smtpcore.Client("localhost", mta.ports["mx"], ca_file=mta.ca_file) as client:
        result = client.send(simple(to=[BOB, "nosuchuser@example.test", "carol@example.test"]))
    assert not result.ok and result.code == 250
    assert result.accepted == [BOB, "carol@example.test"]
    assert list(result.refused) == ["nosuchuser@example.test"]
    refused = result.refused["nosuchuser@example.test"]
    assert (refused.code, refused.enhanced_code) == (550, "5.1.1")
    assert "User unknown" in refused.message
    assert result[1] is refused and result["nosuchuser@example.test"] is refused and len(result) == 3
    assert result[0].accepted and result[0].code == 250
    clean.wait_for_messages("bob", 1)
    clean.wait_for_messages("carol", 1)


def test_wrong_password_is_auth_error(mta, submission):
    submission["password"] = "wrong password"
    with pytest.raises(smtpcore.AuthError) as info:
        smtpcore.Client(**submission).send(simple())
    e = info.value
    assert (e.category, e.code, e.enhanced_code) == ("auth", 535, "5.7.8")
    assert e.server_message.startswith("5.7.8") and e.hint and e.hint in str(e)
    assert any(line.startswith("S: 535") for line in e.transcript)
    assert "wrong password" not in "\n".join(e.transcript)


def test_unknown_user_is_recipients_refused(mta):
    with smtpcore.Client("localhost", mta.ports["mx"], ca_file=mta.ca_file) as client:
        with pytest.raises(smtpcore.RecipientsRefused) as info:
            client.send(simple(to="nosuchuser@example.test"))
        e = info.value
        assert (e.code, e.enhanced_code) == (550, "5.1.1") and e.hint
        assert list(e.result.refused) == ["nosuchuser@example.test"] and e.result.accepted == []
        assert client.send(simple()).ok  # the session is still usable


def test_relay_is_denied(mta):
    with smtpcore.Client("localhost", mta.ports["mx"], ca_file=mta.ca_file) as client:
        with pytest.raises(smtpcore.RelayDenied) as info:
            client.send(simple(to="someone@elsewhere.example"))
    e = info.value
    assert isinstance(e, smtpcore.RecipientsRefused)
    assert (e.category, e.code, e.enhanced_code) == ("relay", 554, "5.7.1")
    assert "Relay access denied" in e.server_message and e.hint


def test_eleven_megabytes_is_too_large(mta, submission):
    msg = simple(attachments=[("big.bin", os.urandom(11 * 1024 * 1024))])
    with smtpcore.Client(**submission) as client:
        with pytest.raises(smtpcore.MessageTooLarge) as info:
            client.send(msg)
        e = info.value
        assert e.category == "size" and e.hint
        assert e.max_size == mta.message_size_limit and e.size > e.max_size
        with pytest.raises(smtpcore.MessageTooLarge):
            client.send_raw(b"Subject: big\r\n\r\n" + b"x" * (11 * 1024 * 1024), ALICE, [BOB])
        assert client.send(simple()).ok


def test_wrong_certificate_is_tls_error(mta):
    with pytest.raises(smtpcore.TLSError) as info:
        smtpcore.Client("localhost", mta.ports["wrongcert"], ca_file=mta.ca_file).connect()
    assert "hostname mismatch" in info.value.message and info.value.hint
    with pytest.raises(smtpcore.TLSError):  # no private CA: the chain is not trusted either
        smtpcore.Client("localhost", mta.ports["submission"]).connect()


def test_connection_refused_is_connect_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = smtpcore.Client("127.0.0.1", port, security="none")  # lazy: no error yet
    with pytest.raises(smtpcore.ConnectError) as info:
        client.send(simple())
    assert info.value.category == "connect" and "refused" in info.value.message and info.value.hint


def test_dns_failure_is_dns_error():
    with pytest.raises(smtpcore.DNSError) as info:
        smtpcore.Client("no-such-host.invalid", 25, security="none").connect()
    assert isinstance(info.value, smtpcore.ConnectError) and info.value.category == "dns"


def test_transcript_is_kept_and_redacted(mta, submission):
    with smtpcore.Client(transcript=True, **submission) as client:
        client.send(simple())
        lines = client.transcript
    assert lines[0].startswith("*  connecting to localhost")
    assert "C: STARTTLS" in lines and "C: RCPT TO:<%s>" % BOB in lines
    assert any(line.startswith("S: 250 2.0.0 Ok") for line in lines)
    assert ALICE_PW not in "\n".join(lines)
    with smtpcore.Client(**submission) as client:
        client.send(simple())
        assert client.transcript == []


def test_email_message_with_bcc(clean, submission):
    msg = EmailMessage()
    msg["From"] = ALICE
    msg["To"] = BOB
    msg["Bcc"] = "carol@example.test"
    msg["Subject"] = "EmailMessage with a blind copy"
    msg.set_content("Body\n")
    with smtpcore.Client(**submission) as client:
        result = client.send(msg)
    assert result.accepted == [BOB, "carol@example.test"]
    for box in ("bob", "carol"):
        got = clean.wait_for_messages(box, 1)[0]
        head = clean.strip_trace(got).split(b"\r\n\r\n")[0]
        assert b"bcc:" not in head.lower() and b"carol" not in head
        assert parse(got)["Subject"] == "EmailMessage with a blind copy"


def test_send_raw_bytes_and_file(clean, submission, tmp_path):
    raw = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: raw\r\n\r\n.dot line\r\nend\r\n"
    path = tmp_path / "m.eml"
    path.write_bytes(raw.replace(b"raw", b"raw file"))
    with smtpcore.Client(**submission) as client:
        assert client.send_raw(raw, ALICE, BOB).ok
        with open(path, "rb") as f:
            assert client.send(f, sender=ALICE, recipients=[BOB]).ok
    got = sorted(clean.strip_trace(m) for m in clean.wait_for_messages("bob", 2))
    assert got == sorted([raw, path.read_bytes()])


def test_noop_rset_info(submission):
    with smtpcore.Client(**submission) as client:
        assert client.info is None
        assert client.noop() == (250, "2.0.0 Ok")
        assert client.rset() == (250, "2.0.0 Ok")
        info = client.info
        assert info["greeting"].startswith("localhost ESMTP")
        assert {"PIPELINING", "SIZE", "AUTH", "8BITMIME"} <= set(info["capabilities"])
        assert info["max_size"] == 10240000 and info["auth_mechanism"] == "SCRAM-SHA-256"
        client.close()
        assert not client.connected and client.info is None
        assert client.noop()[0] == 250  # reconnects


@pytest.mark.parametrize("make, exc", [
    (lambda: smtpcore.Client("localhost", "25"), TypeError),
    (lambda: smtpcore.Client("localhost", 70000), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", security="bogus"), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", timeout=0), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", timeout="5"), TypeError),
    (lambda: smtpcore.Client(), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", auth_mechanism="MAGIC"), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", password="x"), smtpcore.UsageError),
    (lambda: smtpcore.Client("local\r\nhost"), smtpcore.UsageError),
    (lambda: smtpcore.Client("localhost", ehlo_name="bad name!"), smtpcore.UsageError),
    (lambda: smtpcore.Client(preset="no-such-provider"), smtpcore.UsageError),
    (lambda: smtpcore.Client(preset="amazon-ses").connect(), smtpcore.UsageError),
])
def test_bad_client_arguments(make, exc):
    with pytest.raises(exc):
        make()


def test_bad_send_arguments_fail_before_connecting():
    client = smtpcore.Client("127.0.0.1", 9, security="none")  # nothing listens there
    with pytest.raises(TypeError):
        client.send("Subject: str\r\n\r\nbody")
    with pytest.raises(TypeError):
        client.send(12345)
    with pytest.raises(smtpcore.UsageError):
        client.send(b"Subject: x\r\n\r\nbody")  # raw bytes need an envelope
    with pytest.raises(smtpcore.UsageError):
        client.send_raw(b"x", ALICE, ["bob@example.test\r\nRCPT TO:<evil@example.test>"])
    with pytest.raises(smtpcore.UsageError):
        client.send_raw(b"x", "alice@example.test>", [BOB])
    with pytest.raises(smtpcore.UsageError):
        client.send_raw(b"x", ALICE, [])
    with pytest.raises(TypeError):
        client.send_raw("text", ALICE, [BOB])
    assert not client.connected


def test_presets_and_hints():
    names = [p["name"] for p in smtpcore.presets()]
    assert {"gmail", "outlook", "amazon-ses", "sendgrid"} <= set(names)
    gmail = next(p for p in smtpcore.presets() if p["name"] == "gmail")
    assert (gmail["host"], gmail["port"], gmail["security"]) == ("smtp.gmail.com", 587, "starttls")
    assert "password" in smtpcore.hint_for("auth", 535, "5.7.8")
    assert smtpcore.hint_for("recipient", 550, "5.1.1")
    with pytest.raises(smtpcore.UsageError):
        smtpcore.hint_for("nonsense")
    assert smtpcore.__version__ == "0.1.0"


def test_exception_hierarchy():
    assert issubclass(smtpcore.TimeoutError, builtins.TimeoutError)
    assert issubclass(smtpcore.UsageError, ValueError)
    for cls in (smtpcore.ConnectError, smtpcore.DNSError, smtpcore.TLSError, smtpcore.AuthError,
                smtpcore.SenderRefused, smtpcore.RecipientsRefused, smtpcore.MessageTooLarge,
                smtpcore.RelayDenied, smtpcore.TimeoutError, smtpcore.ProtocolError, smtpcore.LocalError,
                smtpcore.UsageError):
        assert issubclass(cls, smtpcore.SMTPError)
    e = smtpcore.AuthError("nope", code=535, enhanced_code="5.7.8")
    assert e.category == "auth" and e.hint and str(e) == "nope\nhint: " + e.hint
