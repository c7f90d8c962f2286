"""MIME composition through the C core (smtpcore send --print and sending to
Postfix), checked against the shared vectors and parsed back with Python's
email package (policy=default)."""
import base64
import email
import email.policy
import hashlib
import os
import re
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "vectors"))
import vector_cli  # noqa: E402

VECTORS = vector_cli.load_all()


def render(cli, vector, tmp_path, *extra):
    r = cli.run(*vector_cli.cli_args(vector, str(tmp_path)), *extra)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def normalise_text(s):
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s if s.endswith("\n") or not s else s + "\n"


def crlf_to_lf(s):
    """Python keeps the wire's CRLF in decoded text bodies."""
    return s.replace("\r\n", "\n")


def all_defects(msg):
    return [(part.get_content_type(), d) for part in msg.walk() for d in part.defects]


def wire_rules(raw, flags):
    """CRLF only, no line over 998 octets, 7-bit unless the transport allows more."""
    assert b"\r\n" in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "bare LF"
    assert re.search(rb"\r(?!\n)", raw) is None, "bare CR"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
    head = raw.split(b"\r\n\r\n", 1)[0]
    if "smtputf8" not in flags:
        assert all(b < 0x80 for b in head), "non-ASCII in headers without SMTPUTF8"
    if "8bit" not in flags:
        assert all(b < 0x80 for b in raw), "8-bit content without 8BITMIME"
    for line in head.split(b"\r\n"):
        if "smtputf8" not in flags:
            assert len(line) <= 78 or b" " not in line.strip(), "foldable header line over 78: %r" % line


def thunderbird_rules(msg):
    """The multipart shapes mail clients expect: alternative has text/plain
    before text/html; related starts with its root (HTML or alternative) and
    holds parts with a Content-ID; mixed starts with the body; every leaf has a
    Content-Type; boundaries are unique and appear in no part's content."""
    boundaries = []
    for part in msg.walk():
        ct = part.get_content_type()
        if part.is_multipart():
            b = part.get_boundary()
            assert b and b not in boundaries
            boundaries.append(b)
            kids = part.get_payload()
            assert kids, "empty multipart"
            if ct == "multipart/alternative":
                types = [k.get_content_type() for k in kids]
                if "text/plain" in types and "text/html" in types:
                    assert types.index("text/plain") < types.index("text/html")
            elif ct == "multipart/related":
                assert kids[0].get_content_type() in ("text/html", "multipart/alternative")
                for k in kids[1:]:
                    assert k["Content-ID"], "related part without Content-ID"
            elif ct == "multipart/mixed":
                assert kids[0].get_content_type() in ("text/plain", "text/html", "multipart/alternative",
                                                      "multipart/related")
                for k in kids[1:]:
                    assert k.get_content_disposition() in ("attachment", "inline")
            else:
                pytest.fail("unexpected multipart " + ct)
        else:
            assert part["Content-Type"] is not None
    raw_parts = [p.get_payload(decode=True) or b"" for p in msg.walk() if not p.is_multipart()]
    for b in boundaries:
        for payload in raw_parts:
            assert ("--" + b).encode() not in payload


def addr_pairs(header):
    return [(a.display_name, a.addr_spec) for a in header.addresses] if header is not None else []


def expected_addr(text, smtputf8):
    m = email.message_from_string("To: %s\n\n" % text, policy=email.policy.default)
    out = []
    for name, spec in addr_pairs(m["To"]):
        local, _, domain = spec.rpartition("@")
        if not smtputf8:
            domain = domain.encode("idna").decode()
        out.append((name, local + "@" + domain.lower()))
    return out


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_bytes_and_meaning(cli, vector, tmp_path):
    raw = render(cli, vector, tmp_path)
    with open(vector_cli.expected_path(vector), "rb") as f:
        assert raw == f.read(), "output differs from the golden vector"
    flags = vector.get("flags", [])
    smtputf8 = "smtputf8" in flags
    wire_rules(raw, flags)
    # RFC 6532 headers are UTF-8: Python's bytes parser would escape them, its
    # string parser garbles 8bit bodies; headers from one, bodies from the other.
    hdrs = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default) if smtputf8 else parse(raw)
    msg = parse(raw)
    assert all_defects(msg) == []
    thunderbird_rules(msg)
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"] == "Thu, 01 Jan 2026 00:00:00 +0000"
    assert re.fullmatch(r"<[0-9a-f]{32}@[a-z0-9.-]+>", msg["Message-ID"])
    assert addr_pairs(hdrs["From"]) == expected_addr(vector["from"], smtputf8)
    for key, header in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        want = [p for a in vector.get(key, []) for p in expected_addr(a, smtputf8)]
        assert addr_pairs(hdrs[header]) == want
    assert hdrs["Bcc"] is None and b"secret@example.test" not in raw
    if "subject" in vector:
        assert hdrs["Subject"] == vector["subject"]
    for name, value in vector.get("headers", []):
        assert hdrs[name] == value
    if "text" in vector:
        assert crlf_to_lf(msg.get_body(("plain",)).get_content()) == normalise_text(vector["text"])
    if "html" in vector:
        assert crlf_to_lf(msg.get_body(("html",)).get_content()) == normalise_text(vector["html"])
    if "calendar" in vector:
        cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        assert len(cal) == 1 and cal[0].get_param("method") == "REQUEST"
        assert crlf_to_lf(cal[0].get_content()) == normalise_text(vector["calendar"])
    if not any(k in vector for k in ("text", "html", "calendar")):
        assert msg.get_content_type() == "text/plain" and msg.get_content() == ""
    parts = {p.get_filename(): p for p in msg.walk() if p.get_filename()}
    for kind in ("attachments", "inline"):
        for a in vector.get(kind, []):
            p = parts[a["filename"]]
            assert p.get_content_type() == a["content_type"]
            data = base64.b64decode(a["data_base64"])
            assert hashlib.sha256(p.get_payload(decode=True)).hexdigest() == hashlib.sha256(data).hexdigest()
            if kind == "inline":
                assert p["Content-ID"] == "<%s>" % a["cid"]
                want = "inline"
            else:
                want = "attachment"
            assert p.get_content_disposition() == want


def test_structure_mixed_related_alternative(cli, tmp_path):
    v = next(v for v in VECTORS if v["name"].startswith("07-"))
    msg = parse(render(cli, v, tmp_path))
    assert msg.get_content_type() == "multipart/mixed"
    kids = msg.get_payload()
    assert [k.get_content_type() for k in kids] == ["multipart/related", "application/octet-stream", "text/csv"]
    rel = kids[0].get_payload()
    assert [k.get_content_type() for k in rel] == ["multipart/alternative", "image/png"]
    assert [k.get_content_type() for k in rel[0].get_payload()] == ["text/plain", "text/html"]


def test_unseeded_messages_differ(cli, tmp_path):
    base = ["send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--text", "x",
            "--html", "<p>x</p>"]
    one, two = cli.run(*base), cli.run(*base)
    assert one.returncode == 0 and two.returncode == 0
    assert parse(one.stdout)["Message-ID"] != parse(two.stdout)["Message-ID"]
    assert parse(one.stdout).get_boundary() != parse(two.stdout).get_boundary()


@pytest.mark.parametrize("args", [
    ["--subject", "Hi\r\nBcc: evil@example.test"],
    ["--subject", "Hi\nBcc: evil@example.test"],
    ["--header", "X-Test: a\r\nBcc: evil@example.test"],
    ["--header", "Bcc: evil@example.test"],
    ["--header", "X Bad: name"],
    ["--cc", "Eve <eve@example.test>\r\nBcc: evil@example.test"],
    ["--cc", "\"Eve\r\nBcc: evil@example.test\" <eve@example.test>"],
])
def test_header_injection_is_refused(cli, args):
    r = cli.run("send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", *args)
    assert r.returncode != 0
    assert b"evil@example.test" not in r.stdout


def test_filename_injection_is_encoded(cli, tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"data")
    name = 'a"; filename="evil.exe'
    r = cli.run("send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--text", "x",
                "--attach", path, "--attach-as", name)
    assert r.returncode == 0, r.stderr.decode()
    msg = parse(r.stdout)
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == name
    assert all_defects(msg) == []


def test_attachments_are_plain_files_only(cli, tmp_path):
    base = ["send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--text", "x"]
    for bad in ("phar://x.phar/y", "http://example.test/file", str(tmp_path)):
        r = cli.run(*base, "--attach", bad)
        assert r.returncode != 0, bad


def test_long_subject_folds_and_decodes(cli):
    subject = "Ünïcödé " * 60 + "end"
    r = cli.run("send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--subject", subject,
                "--text", "x")
    assert r.returncode == 0, r.stderr.decode()
    head = r.stdout.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert len(line) <= 78
    for word in re.findall(rb"=\?[^?]+\?[BQbq]\?[^?]*\?=", head):
        assert len(word) <= 75
    assert parse(r.stdout)["Subject"] == subject


# ------------------------------------------------------------------ DKIM

def make_key(tmp_path, kind):
    key = tmp_path / ("%s.pem" % kind)
    if kind == "rsa":
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", key], check=True, capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        record = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:])
    return key, record


def dkim_verify(raw, record):
    import dkim

    def dnsfunc(name, timeout=5):
        return record if name.startswith(b"sel._domainkey.example.test") else None

    return dkim.verify(raw, dnsfunc=dnsfunc)


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple"])
def test_dkim_signature_verifies_and_breaks_on_change(cli, tmp_path, kind, canon):
    key, record = make_key(tmp_path, kind)
    v = next(v for v in VECTORS if v["name"].startswith("07-"))
    raw = render(cli, v, tmp_path, "--dkim-domain", "example.test", "--dkim-selector", "sel", "--dkim-key", key,
                 "--dkim-canon", canon)
    assert raw.startswith(b"DKIM-Signature: ")
    assert dkim_verify(raw, record) is True
    # One byte of the body changed: the signature no longer holds.
    i = raw.index(b"Text part")
    assert dkim_verify(raw[:i] + b"t" + raw[i + 1:], record) is False
    # A second From header added: oversigning catches it.
    assert dkim_verify(raw.replace(b"\r\nFrom: ", b"\r\nFrom: Evil <evil@example.test>\r\nFrom: ", 1), record) is False
    msg = parse(raw)
    assert all_defects(msg) == []
    thunderbird_rules(msg)


def test_dkim_bad_key_is_a_usage_error(cli, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    r = cli.run("send", "--print", "--from", "a@example.test", "--to", "b@example.test", "--text", "x",
                "--dkim-domain", "example.test", "--dkim-selector", "sel", "--dkim-key", bad)
    assert r.returncode == 22, r.stderr.decode()


# ------------------------------------------------------------------ through Postfix

ALICE_PW = "correct horse battery"


def test_composed_message_delivered_intact(mta, cli, tmp_path):
    mta.clear()
    data = os.urandom(300_000)
    (tmp_path / "random.bin").write_bytes(data)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG fake image")
    r = cli.run("send", "--host", "localhost", "--port", mta.ports["submission"], "--ca-file", mta.ca_file,
                "--user", "alice@example.test", "--from", "Alice <alice@example.test>",
                "--to", "Bob <bob@example.test>", "--cc", "carol@example.test", "--bcc", "dave@example.test",
                "--subject", "Grüße mit Anhang", "--text", "Hallo Bob\n", "--html", '<p>Hallo <img src="cid:logo"></p>',
                "--inline", "logo=%s" % (tmp_path / "logo.png"), "--attach", tmp_path / "random.bin",
                password=ALICE_PW)
    assert r.returncode == 0, r.stderr.decode()
    for box in ("bob", "carol", "dave"):
        (raw,) = mta.wait_for_messages(box, 1)
        msg = parse(mta.strip_trace(raw))
        assert msg["Subject"] == "Grüße mit Anhang"
        assert msg["Bcc"] is None and b"dave@example.test" not in mta.strip_trace(raw)
        (att,) = [p for p in msg.iter_attachments() if p.get_filename() == "random.bin"]
        assert att.get_payload(decode=True) == data
