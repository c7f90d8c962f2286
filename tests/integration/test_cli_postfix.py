"""The C core through its CLI against a real Postfix with Dovecot SASL.

Each test sends through one of the MTA's loopback services and reads the
delivered Maildir file back, comparing bytes with what was sent."""
import uuid

import pytest

ALICE = "alice@example.test"
ALICE_PW = "correct horse battery"


def tls_args(mta, port, security="starttls"):
    return ["--host", "localhost", "--port", mta.ports[port], "--security", security, "--ca-file", mta.ca_file]


def auth_args(user=ALICE):
    return ["--user", user]


def unique_message(extra_body=b"", subject="test"):
    tag = uuid.uuid4().hex
    msg = (b"From: Alice <alice@example.test>\r\n"
           b"To: Bob <bob@example.test>\r\n"
           b"Subject: " + subject.encode() + b" " + tag.encode() + b"\r\n"
           b"Message-ID: <" + tag.encode() + b"@example.test>\r\n"
           b"\r\n"
           b"Hello Bob.\r\n" + extra_body)
    return tag, msg


def delivered(mta, localpart, tag, count=1):
    msgs = mta.wait_for_messages(localpart, count=count, timeout=20)
    mine = [m for m in mta.messages(localpart) if tag.encode() in m]
    assert len(mine) == count, "expected %d delivered copies with tag %s, found %d" % (count, tag, len(mine))
    return mine


@pytest.fixture(autouse=True)
def clean_maildirs(mta):
    mta.clear()
    yield


# --------------------------------------------------------------- smtpcore check

def test_check_shows_capabilities_before_and_after_starttls_and_auth(mta, cli):
    r = cli.run("check", *tls_args(mta, "submission"), *auth_args(), password=ALICE_PW)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    before, after = out.split("Capabilities after STARTTLS:")
    assert "Capabilities before STARTTLS:" in before
    assert "STARTTLS" in before
    # Postfix offers AUTH only once the connection is encrypted.
    assert "AUTH" not in before.split("Capabilities before STARTTLS:")[1]
    assert "AUTH" in after and "PIPELINING" in after
    assert "TLS: TLSv1." in out
    assert "succeeded" in out
    assert ALICE_PW not in out + r.stderr.decode()


def test_check_wrong_password_exits_nonzero_with_535_hint_and_no_password(mta, cli):
    secret = "wrong-password-1234"
    r = cli.run("check", *tls_args(mta, "submission"), *auth_args(), password=secret)
    err = r.stderr.decode()
    assert r.returncode == 14, err
    assert "category: auth" in err
    assert "reply code: 535" in err
    assert "5.7.8" in err
    assert "hint:" in err and "password" in err.split("hint:")[1]
    assert "Transcript" in err and "AUTH" in err and "<redacted>" in err
    assert secret not in err and secret not in r.stdout.decode()
    import base64
    for mech_payload in (base64.b64encode(b"\0" + ALICE.encode() + b"\0" + secret.encode()).decode(),
                         base64.b64encode(secret.encode()).decode()):
        assert mech_payload not in err


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"])
def test_each_auth_mechanism(mta, cli, mechanism):
    r = cli.run("check", *tls_args(mta, "submission"), *auth_args(), "--auth-mechanism", mechanism,
                password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    assert "AUTH: %s succeeded" % mechanism in r.stdout.decode()


def test_strongest_mechanism_is_chosen(mta, cli):
    r = cli.run("check", *tls_args(mta, "submission"), *auth_args(), password=ALICE_PW)
    assert "AUTH: SCRAM-SHA-256 succeeded" in r.stdout.decode()


def test_wrong_host_name_in_certificate_is_a_tls_error(mta, cli):
    r = cli.run("check", *tls_args(mta, "wrongcert"))
    err = r.stderr.decode()
    assert r.returncode == 13, err
    assert "category: tls" in err
    assert "hostname mismatch" in err.lower() or "host name" in err.lower()


def test_unknown_ca_is_a_tls_error(mta, cli):
    r = cli.run("check", "--host", "localhost", "--port", mta.ports["submission"])
    assert r.returncode == 13, r.stderr.decode()


def test_server_without_starttls_refused_before_auth_in_required_mode(mta, cli):
    r = cli.run("check", "--host", "localhost", "--port", mta.ports["plain"], *auth_args(), password=ALICE_PW)
    err = r.stderr.decode()
    assert r.returncode == 13, err
    assert "STARTTLS" in err
    assert "C: AUTH" not in err and "C: MAIL" not in err


def test_no_auth_in_clear_text_unless_allowed(mta, cli):
    base = ["check", "--host", "localhost", "--port", mta.ports["plain"], "--security", "none", *auth_args()]
    r = cli.run(*base, password=ALICE_PW)
    assert r.returncode == 13, r.stderr.decode()
    assert "C: AUTH" not in r.stderr.decode()
    r = cli.run(*base, "--allow-plaintext-auth", password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()


# --------------------------------------------------------------- smtpcore send

@pytest.mark.parametrize("port,security", [("submission", "starttls"), ("smtps", "tls"), ("nochunk", "starttls")])
def test_send_delivers_exact_bytes(mta, cli, port, security):
    tag, msg = unique_message(b".leading dot line\r\n..two dots\r\nlast line\r\n")
    r = cli.run("send", *tls_args(mta, port, security), *auth_args(), "--from", ALICE, "--to", "bob@example.test",
                input=msg, password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    assert "sent: 250" in r.stdout.decode()
    (got,) = delivered(mta, "bob", tag)
    assert mta.strip_trace(got) == msg


def test_send_normalises_line_endings_and_smuggling_patterns(mta, cli):
    tag, _ = unique_message()
    body = (b"Subject: smuggle " + tag.encode() + b"\n\n"
            b"a\n.\nMAIL FROM:<evil@example.test>\r\n"
            b"b\r.\rc\r\n.\nd\n.\r\ne\r\n.\rf")
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", ALICE, "--to", "bob@example.test",
                input=body, password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    (got,) = delivered(mta, "bob", tag)
    expected = (b"Subject: smuggle " + tag.encode() + b"\r\n\r\n"
                b"a\r\n.\r\nMAIL FROM:<evil@example.test>\r\n"
                b"b\r\n.\r\nc\r\n.\r\nd\r\n.\r\ne\r\n.\r\nf\r\n")
    assert mta.strip_trace(got) == expected
    # Exactly one message was delivered: nothing was smuggled in.
    assert len(mta.messages("bob")) == 1
    assert mta.messages("alice") == []


def test_eight_bit_body(mta, cli):
    tag, msg = unique_message("Grüße, 日本語\r\n".encode())
    msg = msg.replace(b"Subject:", b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nSubject:")
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", ALICE, "--to", "bob@example.test",
                "-v", input=msg, password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    assert "BODY=8BITMIME" in r.stderr.decode()
    (got,) = delivered(mta, "bob", tag)
    assert mta.strip_trace(got) == msg


def test_hundred_recipients_pipelined(mta, cli):
    tag, msg = unique_message()
    rcpts = []
    for i in range(100):
        rcpts += ["--to", "alice+%d@example.test" % i]
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", ALICE, *rcpts, "-v",
                input=msg, password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().count("accepted <alice+") == 100
    got = delivered(mta, "alice", tag, count=100)
    assert all(mta.strip_trace(m) == msg for m in got)


def test_unknown_user_partial_failure(mta, cli):
    tag, msg = unique_message()
    r = cli.run("send", *tls_args(mta, "mx"), "--from", "someone@elsewhere.test",
                "--to", "bob@example.test", "--to", "nosuchuser@example.test", input=msg)
    out = r.stdout.decode()
    assert r.returncode == 3, r.stderr.decode()
    assert "accepted <bob@example.test>" in out
    assert "refused  <nosuchuser@example.test> 550 5.1.1" in out
    delivered(mta, "bob", tag)


def test_unknown_user_only_is_a_recipient_error(mta, cli):
    _, msg = unique_message()
    r = cli.run("send", *tls_args(mta, "mx"), "--from", "someone@elsewhere.test",
                "--to", "nosuchuser@example.test", input=msg)
    err = r.stderr.decode()
    assert r.returncode == 16, err
    assert "reply code: 550" in err and "enhanced code: 5.1.1" in err
    assert "hint:" in err


def test_relay_refused(mta, cli):
    _, msg = unique_message()
    r = cli.run("send", *tls_args(mta, "mx"), "--from", "someone@elsewhere.test",
                "--to", "bob@elsewhere.test", input=msg)
    err = r.stderr.decode()
    assert r.returncode == 18, err
    assert "category: relay" in err and "554" in err and "5.7.1" in err


def big_message(size):
    tag, head = unique_message()
    line = b"x" * 998 + b"\r\n"
    return tag, head + line * (size // len(line) + 1)


def test_message_over_size_limit_refused_by_server(mta, cli):
    # From standard input the size is unknown in advance: the server refuses it after the data.
    _, msg = big_message(11 * 1024 * 1024)
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", ALICE, "--to", "bob@example.test",
                input=msg, password=ALICE_PW)
    err = r.stderr.decode()
    assert r.returncode == 17, err
    assert "category: size" in err and "552" in err
    assert mta.messages("bob") == []


def test_message_over_announced_size_refused_before_sending(mta, cli, tmp_path):
    _, msg = big_message(11 * 1024 * 1024)
    path = tmp_path / "big.eml"
    path.write_bytes(msg)
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", ALICE, "--to", "bob@example.test",
                "-v", path, password=ALICE_PW)
    err = r.stderr.decode()
    assert r.returncode == 17, err
    assert "C: MAIL" not in err


def test_sender_not_owned_by_user(mta, cli):
    _, msg = unique_message()
    r = cli.run("send", *tls_args(mta, "submission"), *auth_args(), "--from", "bob@example.test",
                "--to", "carol@example.test", input=msg, password=ALICE_PW)
    # The test MTA lets alice send only as alice (smtpd_sender_login_maps).
    err = r.stderr.decode()
    assert r.returncode == 15, err
    assert "category: sender" in err and "553" in err and "5.7.1" in err
    assert "hint:" in err
