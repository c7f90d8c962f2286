"""The smtplib drop-in: tutorial code runs with only the import changed, the
delivered message equals byte for byte what the standard smtplib delivers,
return values and exceptions are smtplib's (and smtpcore's)."""
import random
import re
import smtplib as std_smtplib
import ssl
from email.message import EmailMessage

import pytest

import smtpcore
from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps
from pyhelpers import ALICE, ALICE_PW, BOB
from smtpcore import smtplib as core_smtplib

# Real Python's "Sending Fancy Emails" tutorial (MIMEMultipart alternative, STARTTLS on 587).
TUTORIAL_STARTTLS = '''
import smtplib, ssl
from email.mime.text import MIMEText
from email.mime.multipart import MIMEMultipart

sender_email = "alice@example.test"
receiver_email = "bob@example.test"
password = "correct horse battery"

message = MIMEMultipart("alternative")
message["Subject"] = "multipart test"
message["From"] = sender_email
message["To"] = receiver_email

text = """\\
Hi,
How are you?
Real Python has many great tutorials:
www.realpython.com"""
html = """\\
<html>
  <body>
    <p>Hi,<br>
       How are you?<br>
       <a href="http://www.realpython.com">Real Python</a>
       has many great tutorials.
    </p>
  </body>
</html>
"""
part1 = MIMEText(text, "plain")
part2 = MIMEText(html, "html")
message.attach(part1)
message.attach(part2)

context = ssl.create_default_context()
server = smtplib.SMTP(smtp_server, port)
server.starttls(context=context)
server.login(sender_email, password)
server.sendmail(sender_email, receiver_email, message.as_string())
server.quit()
'''

# The same tutorial's implicit-TLS form, as a with statement.
TUTORIAL_SSL = '''
import smtplib, ssl

sender_email = "alice@example.test"
receiver_email = "bob@example.test"
password = "correct horse battery"
message = """\\
Subject: Hi there

This message is sent from Python."""

context = ssl.create_default_context()
with smtplib.SMTP_SSL(smtp_server, port, context=context) as server:
    server.login(sender_email, password)
    server.sendmail(sender_email, receiver_email, message)
'''

# The other common form: with SMTP(...), ehlo, starttls, ehlo, login, send_message.
TUTORIAL_WITH = '''
import smtplib
from email.message import EmailMessage

msg = EmailMessage()
msg["Subject"] = "Report"
msg["From"] = "alice@example.test"
msg["To"] = "bob@example.test"
msg["Bcc"] = "carol@example.test"
msg.set_content("The report is attached.\\n.leading dot line\\n")
msg.add_attachment(bytes(range(256)) * 20, maintype="application", subtype="octet-stream", filename="r.bin")

with smtplib.SMTP(smtp_server, port) as s:
    s.ehlo()
    s.starttls()
    s.ehlo()
    s.login("alice@example.test", "correct horse battery")
    s.send_message(msg)
'''


def run_both(code, mta, port, monkeypatch, boxes=("bob",)):
    """Run code with the standard smtplib, then with only the import changed to smtpcore's;
    return the delivered messages (trace headers stripped) of each run, per mailbox."""
    monkeypatch.setenv("SSL_CERT_FILE", mta.ca_file)  # the private CA as "the system store", for both
    changed = re.sub(r"(?m)^import smtplib, ssl$", "import ssl; from smtpcore import smtplib", code)
    changed = re.sub(r"(?m)^import smtplib$", "from smtpcore import smtplib", changed)
    assert changed.count("from smtpcore import smtplib") == 1
    assert len(changed.splitlines()) == len(code.splitlines())  # only the import line differs
    out = []
    mta.wait_queue_empty()
    mta.clear()
    for i, source in enumerate((code, changed)):
        random.seed(1234)  # the email package's MIME boundaries come from random
        g = {"smtp_server": "localhost", "port": mta.ports[port], "__name__": "tutorial"}
        exec(compile(source, "<tutorial %d>" % i, "exec"), g)
        assert (g["smtplib"] is std_smtplib) == (i == 0)
        got = {}
        for box in boxes:
            got[box] = mta.strip_trace(mta.wait_for_messages(box, 1)[-1])
        mta.wait_queue_empty()
        mta.clear()
        out.append(got)
    return out


def test_tutorial_starttls_same_bytes_as_smtplib(mta, monkeypatch):
    std, core = run_both(TUTORIAL_STARTTLS, mta, "submission", monkeypatch)
    assert b"multipart/alternative" in core["bob"]
    assert core == std


def test_tutorial_smtp_ssl_same_bytes_as_smtplib(mta, monkeypatch):
    std, core = run_both(TUTORIAL_SSL, mta, "smtps", monkeypatch)
    assert core["bob"].endswith(b"This message is sent from Python.\r\n")
    assert core == std


def test_tutorial_with_send_message_and_bcc(mta, monkeypatch):
    std, core = run_both(TUTORIAL_WITH, mta, "submission", monkeypatch, boxes=("bob", "carol"))
    assert core == std
    for box in ("bob", "carol"):
        head = core[box].split(b"\r\n\r\n")[0]
        assert b"Bcc" not in head and b"carol" not in head


@pytest.fixture
def ca(mta, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", mta.ca_file)
    return mta.ca_file


def test_return_values_and_state(mta, ca):
    s = core_smtplib.SMTP("localhost", mta.ports["submission"])
    assert s.ehlo_resp is None and not s.does_esmtp
    code, msg = s.ehlo()
    assert code == 250 and msg.startswith(b"localhost\nPIPELINING")
    assert s.ehlo_resp == msg and s.does_esmtp
    assert s.has_extn("STARTTLS") and s.has_extn("size") and not s.has_extn("auth")
    assert s.esmtp_features["size"] == "10240000" and all(k == k.lower() for k in s.esmtp_features)
    assert s.starttls() == (220, b"2.0.0 Ready to start TLS")
    assert s.ehlo_resp is None and s.esmtp_features == {}  # as smtplib: EHLO again before use
    assert s.login(ALICE, ALICE_PW) == (235, b"2.7.0 Authentication successful")
    assert "scram-sha-256" in s.esmtp_features["auth"].lower()
    assert s.noop() == (250, b"2.0.0 Ok")
    assert s.rset() == (250, b"2.0.0 Ok")
    assert s.sendmail(ALICE, [BOB, "nosuchuser@example.test"], "Subject: partial\n\nx\n") == {
        "nosuchuser@example.test": (550, b"5.1.1 <nosuchuser@example.test>: Recipient address rejected: "
                                         b"User unknown in virtual mailbox table")}
    assert s.quit() == (221, b"Bye")
    with pytest.raises(std_smtplib.SMTPServerDisconnected):
        s.noop()


def test_connect_later_and_host_port_string(mta, ca):
    s = core_smtplib.SMTP()
    with pytest.raises(std_smtplib.SMTPServerDisconnected, match="connect"):
        s.ehlo()
    code, msg = s.connect("localhost:%d" % mta.ports["submission"])
    assert code == 220 and msg == b"localhost ESMTP smtpcore test MTA"
    s.close()


def test_wrong_password(mta, ca):
    with core_smtplib.SMTP("localhost", mta.ports["submission"]) as s:
        s.starttls()
        with pytest.raises(std_smtplib.SMTPAuthenticationError) as info:
            s.login(ALICE, "wrong")
        e = info.value
        assert isinstance(e, smtpcore.AuthError) and isinstance(e, OSError)
        assert (e.smtp_code, e.code, e.enhanced_code) == (535, 535, "5.7.8")
        assert e.smtp_error.startswith(b"5.7.8 ") and e.args == (535, e.smtp_error)
        assert e.hint and e.hint in str(e)
        assert s.login(ALICE, ALICE_PW)[0] == 235  # a failed login may be retried, as with smtplib


def test_all_recipients_refused(mta, ca):
    with core_smtplib.SMTP("localhost", mta.ports["mx"]) as s:
        s.starttls()
        with pytest.raises(std_smtplib.SMTPRecipientsRefused) as info:
            s.sendmail(ALICE, ["Nobody <nosuchuser@example.test>"], b"Subject: x\r\n\r\nbody\r\n")
        e = info.value
        assert isinstance(e, smtpcore.RecipientsRefused)
        assert e.recipients == {"Nobody <nosuchuser@example.test>": (
            550, b"5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown in virtual mailbox table")}
        with pytest.raises(std_smtplib.SMTPRecipientsRefused) as info:
            s.sendmail(ALICE, "x@elsewhere.example", b"Subject: x\r\n\r\nbody\r\n")
        assert isinstance(info.value, smtpcore.RelayDenied)
        assert s.sendmail(ALICE, BOB, b"Subject: ok after refusals\r\n\r\nbody\r\n") == {}


def test_too_large(mta, ca):
    with core_smtplib.SMTP_SSL("localhost", mta.ports["smtps"]) as s:
        s.login(ALICE, ALICE_PW)
        with pytest.raises(std_smtplib.SMTPSenderRefused) as info:
            s.sendmail(ALICE, BOB, b"Subject: big\r\n\r\n" + b"x" * (11 * 1024 * 1024))
        assert isinstance(info.value, smtpcore.MessageTooLarge) and info.value.sender == ALICE


def test_certificate_checks(mta, ca):
    with core_smtplib.SMTP("localhost", mta.ports["wrongcert"]) as s:
        with pytest.raises(ssl.SSLError) as info:
            s.starttls()
        assert isinstance(info.value, smtpcore.TLSError) and isinstance(info.value, std_smtplib.SMTPException)
        assert "hostname mismatch" in str(info.value)
    # An explicitly unverified context turns the checks off, as the caller asked.
    with core_smtplib.SMTP("localhost", mta.ports["wrongcert"]) as s:
        assert s.starttls(context=ssl._create_unverified_context())[0] == 220
        assert s.login(ALICE, ALICE_PW)[0] == 235
    # A verifying context with the CA loaded from a file: its certificates are used.
    ctx = ssl.create_default_context(cafile=mta.ca_file)
    with core_smtplib.SMTP_SSL("localhost", mta.ports["smtps"], context=ctx) as s:
        assert s.login(ALICE, ALICE_PW)[0] == 235


def test_verification_is_on_by_default(mta, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with core_smtplib.SMTP("localhost", mta.ports["submission"]) as s:
        with pytest.raises(ssl.SSLError):
            s.starttls()  # the private CA is not trusted: unlike smtplib, this fails
    with core_smtplib.SMTP("localhost", mta.ports["submission"], cafile=mta.ca_file) as s:
        assert s.starttls()[0] == 220


def test_no_login_in_clear_text(mta):
    with core_smtplib.SMTP("localhost", mta.ports["plain"]) as s:
        with pytest.raises(std_smtplib.SMTPException) as info:
            s.login(ALICE, ALICE_PW)
        assert isinstance(info.value, smtpcore.TLSError)
    with core_smtplib.SMTP("localhost", mta.ports["plain"], allow_plaintext_auth=True) as s:
        assert s.login(ALICE, ALICE_PW)[0] == 235
        assert s.sendmail(ALICE, [BOB], "Subject: clear\n\nx\n") == {}


def test_debuglevel_prints_redacted_transcript(mta, ca, capsys):
    with core_smtplib.SMTP("localhost", mta.ports["submission"], auth_mechanism="PLAIN") as s:
        s.set_debuglevel(1)
        s.starttls()
        s.login(ALICE, ALICE_PW)
    err = capsys.readouterr().err
    assert "C: STARTTLS" in err and "C: AUTH PLAIN <redacted>" in err and ALICE_PW not in err


def test_connect_errors():
    with FaultServer([{"send": "554 5.7.1 No service for you\r\n"}, {"wait_close": 5}]) as srv:
        with pytest.raises(std_smtplib.SMTPConnectError) as info:
            core_smtplib.SMTP("127.0.0.1", srv.port)
    assert info.value.smtp_code == 554 and isinstance(info.value, smtpcore.ConnectError)
    with pytest.raises(std_smtplib.SMTPConnectError) as info:
        core_smtplib.SMTP("127.0.0.1", 9)
    assert isinstance(info.value, OSError) and "refused" in str(info.value)


def test_timeout_is_both_timeout_and_disconnected():
    script = [{"send": "220 hi\r\n"}, {"expect": "EHLO"}, {"sleep": 4}]
    with FaultServer(script, timeout=10) as srv:
        s = core_smtplib.SMTP("127.0.0.1", srv.port, timeout=0.5)
        with pytest.raises(TimeoutError) as info:
            s.ehlo()
    assert isinstance(info.value, std_smtplib.SMTPServerDisconnected)
    assert isinstance(info.value, smtpcore.TimeoutError)
    assert s.sock is None


def test_sender_and_data_refused():
    script = greet_ehlo(["8BITMIME"]) + [
        {"expect": "MAIL"}, {"send": "553 5.1.8 Sender rejected\r\n"}, {"expect": "RSET"}, {"send": "250 ok\r\n"},
        {"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"},
        {"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "554 5.6.0 Rejected\r\n"},
        {"expect": "RSET"}, {"send": "250 ok\r\n"}] + quit_steps()
    with FaultServer(script) as srv:
        with core_smtplib.SMTP("127.0.0.1", srv.port) as s:
            with pytest.raises(std_smtplib.SMTPSenderRefused) as info:
                s.sendmail("bad@example.test", [BOB], b"Subject: x\r\n\r\ny\r\n")
            assert (info.value.smtp_code, info.value.sender) == (553, "bad@example.test")
            with pytest.raises(std_smtplib.SMTPDataError) as info:
                s.sendmail(ALICE, [BOB], b"Subject: x\r\n\r\ny\r\n")
            assert info.value.smtp_code == 554 and info.value.smtp_error == b"5.6.0 Rejected"
        srv.assert_ok(timeout=5)


def test_smtplib_argument_behaviour(mta, ca):
    with core_smtplib.SMTP("localhost", mta.ports["submission"]) as s:
        s.starttls()
        s.login(ALICE, ALICE_PW)
        with pytest.raises(UnicodeEncodeError):  # smtplib encodes str messages as ASCII
            s.sendmail(ALICE, [BOB], u"Subject: caf\u00e9\n\nx\n")
        with pytest.raises(ValueError):
            s.sendmail(ALICE, ["bob@example.test\r\nRCPT TO:<evil@example.test>"], b"x")
        with pytest.raises(std_smtplib.SMTPNotSupportedError):
            s.sendmail(ALICE, [BOB], b"x", mail_options=["XFORWARD=1"])
        with pytest.raises(std_smtplib.SMTPNotSupportedError):
            s.docmd("VRFY", BOB)
        assert s.sendmail(ALICE, [BOB], b"Subject: dsn\r\n\r\nx\r\n", mail_options=["RET=HDRS", "BODY=8BITMIME"],
                          rcpt_options=["NOTIFY=SUCCESS,FAILURE"]) == {}
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = ALICE, BOB, "send_message"
        msg.set_content("x\n")
        assert s.send_message(msg) == {}
    with pytest.raises(ValueError):
        core_smtplib.SMTP("localhost", mta.ports["submission"], source_address=("127.0.0.1", 0))
    with pytest.raises(ValueError):
        core_smtplib.SMTP("localhost", mta.ports["submission"], timeout=0)


def test_module_has_smtplib_names():
    for name in ("SMTPException", "SMTPNotSupportedError", "SMTPServerDisconnected", "SMTPResponseException",
                 "SMTPSenderRefused", "SMTPRecipientsRefused", "SMTPDataError", "SMTPConnectError",
                 "SMTPHeloError", "SMTPAuthenticationError"):
        ours = getattr(core_smtplib, name)
        assert issubclass(ours, getattr(std_smtplib, name)), name
    assert core_smtplib.SMTP_PORT == 25 and core_smtplib.SMTP_SSL_PORT == 465
    assert core_smtplib.quoteaddr("a@b") == "<a@b>"
    assert smtpcore.SMTP is core_smtplib.SMTP and smtpcore.SMTP_SSL is core_smtplib.SMTP_SSL
    assert issubclass(core_smtplib.SMTPAuthenticationError, smtpcore.AuthError)
    assert issubclass(core_smtplib.SMTPRecipientsRefused, smtpcore.RecipientsRefused)
