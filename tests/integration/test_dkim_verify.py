"""DKIM signatures from the C core, checked by an independent verifier (dkimpy).

tests/integration/dkim_probe.c signs a message file (the body fed in random
chunks); dkimpy verifies it, with the public key served by a local dnsfunc
(no DNS traffic). Every canonicalisation, RSA-SHA256 and Ed25519-SHA256, a
set of awkward messages; then tampering must fail verification.
"""
import base64
import os
import re
import subprocess
import time

import pytest

dkim = pytest.importorskip("dkim")

CANONS = ["relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"]
DOMAIN = "example.com"


@pytest.fixture(scope="session")
def dkim_probe():
    """tests/integration/dkim_probe.c, built next to the CLI ($SMTPCORE_CLI)."""
    cli = os.environ.get("SMTPCORE_CLI")
    if not cli:
        pytest.fail("set SMTPCORE_CLI to the built smtpcore CLI; dkim_probe is built next to it")
    path = os.path.join(os.path.dirname(cli), "dkim_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("dkim_probe is not built at %s" % path)
    return path


def _openssl(*args):
    return subprocess.run(["openssl"] + list(args), check=True, capture_output=True).stdout


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """selector -> (private key file, TXT record); plus a PKCS#1 copy of the RSA key."""
    d = tmp_path_factory.mktemp("dkimkeys")
    rsa, ed, rsa1 = d / "rsa.pem", d / "ed.pem", d / "rsa-pkcs1.pem"
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(rsa))
    _openssl("genpkey", "-algorithm", "ED25519", "-out", str(ed))
    _openssl("pkey", "-in", str(rsa), "-traditional", "-out", str(rsa1))
    rsa_der = _openssl("pkey", "-in", str(rsa), "-pubout", "-outform", "DER")
    ed_der = _openssl("pkey", "-in", str(ed), "-pubout", "-outform", "DER")
    assert len(ed_der) == 44  # SubjectPublicKeyInfo: 12-byte prefix + 32-byte key
    rsa_txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_der)
    ed_txt = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_der[-32:])
    return {"rsa": (str(rsa), rsa_txt), "ed": (str(ed), ed_txt), "rsa1": (str(rsa1), rsa_txt)}


@pytest.fixture(scope="session")
def dnsfunc(keys):
    def lookup(name, timeout=5):
        if isinstance(name, str):
            name = name.encode()
        m = re.match(rb"^([^.]+)\._domainkey\.example\.com\.?$", name)
        if not m or m.group(1).decode() not in keys:
            return None
        return keys[m.group(1).decode()][1]
    return lookup


HEAD = (b"From: Alice Example <alice@example.com>\r\n"
        b"To: Bob <bob@example.net>\r\n"
        b"Subject: Quarterly report\r\n"
        b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        b"Message-ID: <20231114221320.1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n")

MESSAGES = {
    "plain": HEAD + b"\r\nHello Bob,\r\n\r\nthe report is attached.\r\n",
    "folded_headers": (b"From: Alice Example\r\n <alice@example.com>\r\n"
                       b"To: Bob <bob@example.net>,\r\n\tCarol <carol@example.net>,\r\n  Dave <dave@example.net>\r\n"
                       b"Subject: a subject that goes on\r\n and on\r\n\t and on\r\n"
                       b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                       b"X-Folded:  lots   of\t\twhitespace   \r\n"
                       b"\r\nbody\r\n"),
    "trailing_whitespace": (b"From: alice@example.com\r\nSubject: spaces at the end   \t\r\nTo:  bob@example.net  \r\n"
                            b"\r\nline with spaces   \r\nline with tabs\t\t\r\n  \t \r\n middle  spaces\there\r\n"),
    "trailing_empty_lines": HEAD + b"\r\nlast line\r\n\r\n\r\n\r\n\r\n",
    "only_blank_lines": HEAD + b"\r\n\r\n\r\n \r\n\t\r\n",
    "empty_body": HEAD + b"\r\n",
    "eight_bit": (b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>\r\nTo: bob@example.net\r\n"
                  b"Subject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\r\n\r\n"
                  b"Gr\xc3\xbc\xc3\x9fe, \xe2\x82\xac 100 \xf0\x9f\x8e\x89\r\nlatin-1: \xe9\xe8\xff\x80\r\n"),
    "long_lines": (HEAD + b"\r\n" + b"x" * 998 + b"\r\n" + (b"word " * 190 + b"\r\n") * 300
                   + b"\r\n".join(b"%d %s" % (i, b"y" * (i % 120)) for i in range(3000)) + b"\r\n"),
    "repeated_headers": (b"Received: from a by b; Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                         b"From: alice@example.com\r\nTo: bob@example.net\r\nTo: carol@example.net\r\n"
                         b"References: <1@example.com>\r\nReferences: <2@example.com>\r\n"
                         b"Subject: one\r\nComments: c1\r\nComments: c2\r\n"
                         b"\r\nbody\r\n"),
    "leading_blank_lines": HEAD + b"\r\n\r\n\r\nafter two blank lines\r\n",
}


def sign(probe, keyfile, selector, canon, msg, tmp_path, *extra, seed=1):
    path = tmp_path / "msg.eml"
    path.write_bytes(msg)
    r = subprocess.run([probe, keyfile, DOMAIN, selector, canon, str(path), "--seed", str(seed)] + list(extra),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout
    assert out.startswith(b"DKIM-Signature:")
    assert out.endswith(msg)
    return out


def split_sig(signed, msg):
    return signed[: len(signed) - len(msg)]


def sig_tags(field):
    value = field.split(b":", 1)[1]
    value = re.sub(rb"\r\n[ \t]", b" ", value)
    tags = {}
    for part in value.split(b";"):
        if b"=" in part:
            k, v = part.split(b"=", 1)
            tags[k.strip().decode()] = re.sub(rb"\s+", b"", v)
    return tags


@pytest.mark.parametrize("name", sorted(MESSAGES))
@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_verifies(dkim_probe, keys, dnsfunc, tmp_path, selector, canon, name):
    msg = MESSAGES[name]
    for seed in (1, 2):
        signed = sign(dkim_probe, keys[selector][0], selector, canon, msg, tmp_path, seed=seed)
        assert dkim.verify(signed, dnsfunc=dnsfunc), (name, canon, selector)
    field = split_sig(signed, msg)
    tags = sig_tags(field)
    assert tags["a"] == (b"rsa-sha256" if selector == "rsa" else b"ed25519-sha256")
    assert tags["c"] == canon.encode()
    assert "l" not in tags
    for line in field.split(b"\r\n")[:-1]:
        assert len(line) <= 78, line
    # Same bytes whatever the chunking.
    assert sign(dkim_probe, keys[selector][0], selector, canon, msg, tmp_path, seed=7) == signed


@pytest.mark.parametrize("canon", CANONS)
def test_body_hash_matches_dkimpy_signer(dkim_probe, keys, tmp_path, canon):
    """dkimpy's own canonicalisation gives the same bh= for every message."""
    with open(keys["rsa1"][0], "rb") as f:
        pkcs1 = f.read()
    hc, bc = canon.encode().split(b"/")
    for name, msg in sorted(MESSAGES.items()):
        ours = sig_tags(split_sig(sign(dkim_probe, keys["rsa"][0], "rsa", canon, msg, tmp_path), msg))["bh"]
        theirs = sig_tags(dkim.sign(msg, b"rsa", DOMAIN.encode(), pkcs1, canonicalize=(hc, bc),
                                    include_headers=[b"from"]))["bh"]
        assert ours == theirs, name


def test_empty_body_hashes(dkim_probe, keys, tmp_path):
    msg = MESSAGES["empty_body"]
    for canon, bh in (("simple/simple", b"frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="),
                      ("relaxed/relaxed", b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")):
        signed = sign(dkim_probe, keys["ed"][0], "ed", canon, msg, tmp_path)
        assert sig_tags(split_sig(signed, msg))["bh"] == bh


def _flip_body(signed):
    i = signed.rindex(b"report")
    return signed[:i] + b"R" + signed[i + 1:]


def _flip_header(signed):
    return signed.replace(b"Subject: Quarterly report", b"Subject: Quarterly rep0rt", 1)


def _from_on_top(signed):
    return b"From: Mallory <mallory@example.org>\r\n" + signed


def _from_at_bottom(signed):
    i = signed.index(b"\r\n\r\n")
    return signed[:i] + b"\r\nFrom: Mallory <mallory@example.org>" + signed[i:]


def _add_reply_to(signed):
    i = signed.index(b"\r\n\r\n")
    return signed[:i] + b"\r\nReply-To: mallory@example.org" + signed[i:]


def _append_body(signed):
    return signed + b"P.S. appended\r\n"


@pytest.mark.parametrize("tamper", [_flip_body, _flip_header, _from_on_top, _from_at_bottom, _add_reply_to,
                                    _append_body])
@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_tampering_fails(dkim_probe, keys, dnsfunc, tmp_path, selector, canon, tamper):
    msg = MESSAGES["plain"]
    signed = sign(dkim_probe, keys[selector][0], selector, canon, msg, tmp_path)
    assert dkim.verify(signed, dnsfunc=dnsfunc)
    changed = tamper(signed)
    assert changed != signed
    assert not dkim.verify(changed, dnsfunc=dnsfunc)


def test_unsigned_header_may_be_added(dkim_probe, keys, dnsfunc, tmp_path):
    msg = MESSAGES["plain"]
    signed = sign(dkim_probe, keys["rsa"][0], "rsa", "relaxed/relaxed", msg, tmp_path)
    assert dkim.verify(b"X-Spam-Score: 0\r\n" + signed, dnsfunc=dnsfunc)


def test_from_is_oversigned(dkim_probe, keys, tmp_path):
    """h= lists From once more than it occurs, so a second From breaks any
    verifier (dkimpy happens to add an extra From itself; others do not)."""
    for msg in (MESSAGES["plain"], MESSAGES["repeated_headers"]):
        field = split_sig(sign(dkim_probe, keys["ed"][0], "ed", "relaxed/relaxed", msg, tmp_path), msg)
        names = [n.lower() for n in sig_tags(field)["h"].split(b":")]
        assert names.count(b"from") == 2
        for absent in (b"reply-to", b"cc", b"in-reply-to", b"list-unsubscribe"):
            assert absent in names


def test_relaxed_survives_refolding(dkim_probe, keys, dnsfunc, tmp_path):
    msg = MESSAGES["plain"]
    signed = sign(dkim_probe, keys["rsa"][0], "rsa", "relaxed/relaxed", msg, tmp_path)
    refolded = signed.replace(b"Subject: Quarterly report", b"Subject:   Quarterly\r\n\treport  ")
    refolded = refolded.replace(b"the report is attached.\r\n", b"the  report is attached.\t \r\n\r\n\r\n")
    assert dkim.verify(refolded, dnsfunc=dnsfunc)
    simple = sign(dkim_probe, keys["rsa"][0], "rsa", "simple/simple", msg, tmp_path)
    assert not dkim.verify(simple.replace(b"Subject: Quarterly report", b"Subject:  Quarterly report"),
                           dnsfunc=dnsfunc)


def test_options(dkim_probe, keys, dnsfunc, tmp_path):
    msg = MESSAGES["repeated_headers"]
    now = int(time.time())
    # The caller's h= list, an identity, t= and x=; the PKCS#1 key file works too.
    signed = sign(dkim_probe, keys["rsa1"][0], "rsa1", "relaxed/simple", msg, tmp_path,
                  "--headers", "Subject:From:To:To:To", "--identity", "news@mail.example.com",
                  "--timestamp", str(now), "--expire", "3600")
    tags = sig_tags(split_sig(signed, msg))
    assert tags["h"] == b"Subject:From:From:To:To:To"
    assert tags["i"] == b"news@mail.example.com"
    assert tags["t"] == str(now).encode() and tags["x"] == str(now + 3600).encode()
    assert dkim.verify(signed, dnsfunc=dnsfunc)
    # A third To is caught: To was listed three times for two instances.
    i = signed.index(b"\r\n\r\n")
    assert not dkim.verify(signed[:i] + b"\r\nTo: mallory@example.org" + signed[i:], dnsfunc=dnsfunc)
    # Expired long ago (dkimpy allows 10 hours of clock skew).
    old = now - 200000
    expired = sign(dkim_probe, keys["ed"][0], "ed", "relaxed/relaxed", msg, tmp_path,
                   "--timestamp", str(old), "--expire", "60")
    assert not dkim.verify(expired, dnsfunc=dnsfunc)


def test_refusals(dkim_probe, keys, tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(MESSAGES["plain"])

    def run(keyfile, domain, selector, *extra):
        return subprocess.run([dkim_probe, keyfile, domain, selector, "relaxed/relaxed", str(path)] + list(extra),
                              capture_output=True, timeout=60)

    r = run(keys["rsa"][0], "exa_mple.com", "rsa")
    assert r.returncode == 2 and b"usage" in r.stderr
    r = run(keys["rsa"][0], DOMAIN, "bad selector")
    assert r.returncode == 2 and b"usage" in r.stderr
    r = run(keys["rsa"][0], DOMAIN, "rsa", "--headers", "Subject:To")
    assert r.returncode == 2 and b"From" in r.stderr
    weak = tmp_path / "weak.pem"
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:768", "-out", str(weak))
    r = run(str(weak), DOMAIN, "rsa")
    assert r.returncode == 2 and b"1024" in r.stderr
    ec = tmp_path / "ec.pem"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(ec))
    r = run(str(ec), DOMAIN, "rsa")
    assert r.returncode == 2 and b"RSA or Ed25519" in r.stderr
    path.write_bytes(b"To: bob@example.net\r\n\r\nno From\r\n")
    r = run(keys["rsa"][0], DOMAIN, "rsa")
    assert r.returncode == 2 and b"no From" in r.stderr
