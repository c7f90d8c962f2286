"""Differential test of the address parser against Python's email package.

Every input of the corpus (the unit-test tables, which are also the fuzz
seeds in tests/fuzz/corpus/address/, plus the cases below) goes through
tests/integration/address_probe.c and through Python's
email.headerregistry (policy.default parsing "To: <input>"). Whenever we
accept an input, Python must find the same mailboxes: same local parts
(unquoted), same domains (up to case and UTS 46 mapping), same display
names. Python is more lenient than we are (it accepts, with defects, much
that we refuse); that is fine and only reported. Known Python bugs are
listed in PYTHON_DISPLAY_NAME_BUGS with their references: for those inputs
the display names are not compared, the addresses still are.
"""
import email
import json
import os
import re
import subprocess
import unicodedata
from email import policy

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(TESTS, "fuzz", "corpus", "address")

# Inputs beyond the unit tables: differential-prone shapes.
EXTRA = [
    # CVE-2023-27043 (Python took the wrong address from these)
    b"alice@example.org)<bob@example.org>",
    b"alice@example.org]<bob@example.org>",
    b"alice@example.org,<bob@example.org>",
    b'"alice@example.org" <bob@example.org>',
    b"alice@example.org <bob@example.org>",
    # nodemailer CVE-2025-13033
    b'"xclow3n@gmail.com x"@internal.domain',
    b'"xclow3n@gmail.com"@internal.domain',
    b'"attacker@evil.example"@victim.example',
    # "Splitting the email atom" (PortSwigger, 2024): encoded-words and
    # quoting tricks in local parts
    b"=?x?q?foo=40bar.com=3e=20?=@example.com",
    b"=?utf-8?q?=41=42=43?=@example.com",
    b'"=?x?q?a?="@example.com',
    b'"foo@bar.com>"@example.com',
    b'"a\\"b@c"@d.example',
    b'"a\\\\"@d.example',
    b"a%b@c.example",
    b"b!a@c.example",
    # comments and whitespace around
    b"(a) <b@c.example> (d)",
    b"a@b.example (c@d.example)",
    b"Bob (<c@d.example>) <b@e.example>",
    b'"Bob <c@d.example>" <b@e.example>',
    b"Bob <b@e.example> (x, y@z)",
    # groups
    b"A: a@x.example;, B: b@y.example;",
    b"A: a@x.example, (c) b@y.example (d);",
    b"Team (the team): \"A\" <a@x.example>;",
    # encoded-words
    b"=?UTF-8?Q?a?= (c) =?UTF-8?Q?b?= <e@x.example>",
    b"=?UTF-8?B?QWxpY2U=?= <alice@x.example>",
    b"=?UTF-8?Q?Alice_=3Cattacker=40evil.example=3E?= <alice@x.example>",
    b"=?ISO-8859-1?Q?Fran=E7ois?= <f@x.example>",
    # international
    "Zoë <zoë@zürich.example>".encode(),
    "\"Zoë, Z.\" <z@ZÜRICH.example>".encode(),
    "a@xn--zrich-kva.example".encode(),
    "δοκιμή@παράδειγμα.δοκιμή".encode(),
    "用户@例子.广告".encode(),
    # literals
    b"a@[127.0.0.1]",
    b"a@[IPv6:::1]",
    b"a@[IPv6:2001:DB8::1]",
    # Python raises on these (PYTHON_RAISES); they are valid RFC 5322
    b"J.<j@x.example>",
    b"Team.: a@x.example;",
    b"Empty:; , a@x.example",
    # controls: must be refused
    b"a@b.example\r\nBcc: evil@x.example",
    b"a@b.example\nBcc: evil@x.example",
    b"\"a\r\nb\"@x.example",
    b"Bob\x00 <a@x.example>",
]

KNOWN_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1"}

# Inputs where Python's display name is wrong by the RFCs; each predicate
# takes the input text. The addresses are compared all the same.
PYTHON_DISPLAY_NAME_BUGS = [
    # RFC 2047 6.2: whitespace between adjacent encoded-words is ignored.
    # Python keeps it in structured headers: CPython gh-128110
    # (https://github.com/python/cpython/issues/128110, fixed by PR 130749).
    ("gh-128110", lambda s: re.search(r"\?=\s+=\?", s) is not None),
    # RFC 2047 5(3): an encoded-word must not appear within a quoted-string;
    # Python decodes it anyway (with an "encoded word inside quoted string"
    # defect). We keep the text as written.
    ("RFC 2047 5: encoded-word in quoted-string", lambda s: re.search(r'"[^"]*=\?[^"]*\?=[^"]*"', s) is not None),
    # Encoded-words in charsets we do not decode stay as written (our
    # choice); Python decodes the bytes as unknown-8bit.
    ("unknown charset kept undecoded",
     lambda s: any(cs.split("*")[0].lower() not in KNOWN_CHARSETS
                   for cs in re.findall(r"=\?([^?\s]+)\?[BbQq]\?[^?\s]+\?=", s))),
]


# Inputs that are valid RFC 5322 but make Python's parser raise (so it
# cannot disagree on the address, it just gives none); these are skipped.
PYTHON_RAISES = [
    # obs-phrase ending in '.' right before '<' or ':' ("J.<j@x>"): AttributeError
    # "'str' object has no attribute 'token_type'". CPython gh-87667 (bpo-43501),
    # same family as gh-75171 (bpo-30988).
    ("gh-87667", lambda s: re.search(r"\.[<:]", s) is not None),
    # An empty group with no space inside, then CFWS before the next comma
    # ("G:; , a@x"): AttributeError "'Group' object has no attribute
    # 'local_part'" at headerregistry.py AddressHeader.parse (seen on 3.11.2;
    # no CPython issue found; reported downstream as scanner/asimap#285).
    ("empty group then CFWS", lambda s: re.search(r":;[ \t(]", s) is not None),
]


def corpus():
    inputs = []
    for name in sorted(os.listdir(SEEDS)):
        with open(os.path.join(SEEDS, name), "rb") as f:
            inputs.append(f.read())
    for data in EXTRA:
        if data not in inputs:
            inputs.append(data)
    return inputs


CORPUS = corpus()


def escape(data):
    """The probe's input form: one line, printable ASCII, \\xHH otherwise."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02X" % b)
    return "".join(out)


@pytest.fixture(scope="session")
def address_probe_path(cli_path):
    """tests/integration/address_probe.c, built next to the CLI."""
    path = os.path.join(os.path.dirname(cli_path), "address_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("address_probe is not built at %s" % path)
    return path


@pytest.fixture(scope="session")
def probe_results(address_probe_path):
    stdin = "".join(escape(d) + "\n" for d in CORPUS).encode("ascii")
    r = subprocess.run([address_probe_path], input=stdin, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    # Strict UTF-8: everything the parser gives back must be valid.
    lines = r.stdout.decode("utf-8").splitlines()
    assert len(lines) == len(CORPUS)
    return {data: json.loads(line) for data, line in zip(CORPUS, lines)}


def python_parse(text):
    """Python's mailboxes for "To: text" as (display_name, username, domain), or None if it raises."""
    try:
        msg = email.message_from_string("To: " + text + "\n\n", policy=policy.default)
        header = msg["To"]
        return [(a.display_name, a.username, a.domain) for a in header.addresses]
    except Exception:  # noqa: BLE001 - any failure is Python refusing
        return None


def unquote_local(local):
    if local.startswith('"'):
        return re.sub(r"\\(.)", r"\1", local[1:-1])
    return local


def fold(s):
    return unicodedata.normalize("NFKC", s).casefold()


def same_domain(py, ours):
    if py == ours["domain"] or py.lower() == ours["domain_ascii"]:
        return True
    return fold(py) == fold(ours["domain"])


def case_id(data):
    s = escape(data)
    return s if len(s) <= 60 else s[:57] + "..."


@pytest.mark.parametrize("data", CORPUS, ids=[case_id(d) for d in CORPUS])
def test_python_agrees_when_we_accept(data, probe_results):
    res = probe_results[data]
    for mode in ("mailbox", "list"):
        if not res[mode]["ok"]:
            msg = res[mode]["error"]
            assert msg.startswith("invalid address: ") or msg == "out of memory"
            assert not re.search(r"[\x00-\x1f\x7f]", msg), msg
    if res["mailbox"]["ok"]:
        # A single mailbox is the one element of the list parse.
        assert res["list"]["ok"] and res["list"]["items"] == res["mailbox"]["items"]
    if not res["list"]["ok"]:
        return
    ours = res["list"]["items"]

    # Anything that could break a header line was refused.
    assert not re.search(rb"[\r\n\x00]", data)
    text = data.decode("utf-8")  # we accepted it, so it is valid UTF-8

    py = python_parse(text)
    if py is None:
        known = [name for name, applies in PYTHON_RAISES if applies(text)]
        if known:
            pytest.skip("Python's parser raises on this valid input (%s)" % ", ".join(known))
    assert py is not None, "Python's parser raised on %r, which we accept" % text
    assert len(py) == len(ours), "Python finds %r, we find %r" % (py, ours)
    skip_names = [name for name, applies in PYTHON_DISPLAY_NAME_BUGS if applies(text)]
    for (py_name, py_user, py_domain), m in zip(py, ours):
        assert py_user == unquote_local(m["local"]), (py_user, m)
        assert same_domain(py_domain, m), (py_domain, m)
        if not skip_names:
            assert py_name == (m["display_name"] or ""), (py_name, m)
        # The addr-spec we send is the parsed address, in both forms.
        assert m["addr_spec_utf8"] == m["local"] + "@" + m["domain"]
        if m["local_utf8"]:
            assert m["addr_spec"] is None
        else:
            assert m["addr_spec"] == m["local"] + "@" + m["domain_ascii"]
            assert m["domain_ascii"].isascii()


def test_cve_2023_27043_payloads_refused(probe_results):
    """Python (before the fix) read alice@example.org out of these; we refuse them."""
    for data in (b"alice@example.org)<bob@example.org>", b"alice@example.org]<bob@example.org>",
                 b"alice@example.org <bob@example.org>"):
        assert not probe_results[data]["list"]["ok"], data
        assert not probe_results[data]["mailbox"]["ok"], data


def test_cve_2025_13033_quoted_local_part(probe_results):
    """The '@' inside the quotes belongs to the local part: the domain is internal.domain."""
    res = probe_results[b'"xclow3n@gmail.com x"@internal.domain']
    assert res["mailbox"]["ok"]
    [m] = res["mailbox"]["items"]
    assert m["local"] == '"xclow3n@gmail.com x"'
    assert m["domain"] == m["domain_ascii"] == "internal.domain"
    assert m["addr_spec"] == '"xclow3n@gmail.com x"@internal.domain'
    assert python_parse('"xclow3n@gmail.com x"@internal.domain') == [("", "xclow3n@gmail.com x", "internal.domain")]


def test_encoded_word_local_parts_refused(probe_results):
    """Python decodes encoded-words in local parts ("=?x?q?foo=40bar.com=3e=20?=@example.com"
    has the username 'foo@bar.com> '); RFC 2047 5 forbids them there, and we refuse them."""
    for data in (b"=?x?q?foo=40bar.com=3e=20?=@example.com", b"=?utf-8?q?=41=42=43?=@example.com",
                 b'"=?x?q?a?="@example.com'):
        assert not probe_results[data]["list"]["ok"], data
    assert python_parse("=?utf-8?q?=41=42=43?=@example.com")[0][1] == "ABC"


def test_corpus_is_large_and_mixed(probe_results):
    accepted = sum(1 for r in probe_results.values() if r["list"]["ok"])
    refused = len(probe_results) - accepted
    assert accepted >= 60 and refused >= 60, (accepted, refused)
