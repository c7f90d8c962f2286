"""The C content transfer encoders held to Python's own codecs, through
tests/integration/encoder_probe.c: base64 exactly as base64.encodebytes()
(with CRLF), quoted-printable that binascii, quopri and email.quoprimime all
decode back to the input (line ends normalised to CRLF) and that matches
binascii.b2a_qp() on plain short-lined text, the scan counters against a
straightforward Python count and Python's strict UTF-8 decoder, and the
extension table against mimetypes where both follow the registrations."""
import base64
import binascii
import email.quoprimime
import mimetypes
import os
import quopri
import random
import re
import subprocess

import pytest

CHUNKS = [0, 1, 2, 3, 7, 57, 76, 4096]


@pytest.fixture(scope="module")
def probe(cli_path):
    """encoder_probe, built next to the CLI (SMTPCORE_CLI)."""
    path = os.path.join(os.path.dirname(cli_path), "encoder_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("encoder_probe is not built at %s" % path)

    def run(*args, data=b""):
        r = subprocess.run([path] + [str(a) for a in args], input=data, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    return run


def _random_bytes(rng, n, alphabet=None):
    if alphabet is None:
        return bytes(rng.getrandbits(8) for _ in range(n))
    return bytes(rng.choice(alphabet) for _ in range(n))


def _samples():
    rng = random.Random(2045)
    s = {
        "empty": b"",
        "rfc4648_f": b"f",
        "rfc4648_fo": b"fo",
        "rfc4648_foo": b"foo",
        "rfc4648_foob": b"foob",
        "rfc4648_fooba": b"fooba",
        "rfc4648_foobar": b"foobar",
        "german": "Grüße aus Köln!\nDie Straße ist schön = sehr schön.\n".encode(),
        "russian": "Привет, мир! Это проверка кодировки.\r\n".encode() * 5,
        "emoji": "ok 😀 \U0010FFFF end".encode(),
        "trailing_ws": b"space at end \r\ntab at end\t\nboth \t\rend ",
        "dots_and_from": b".\r\n..leading\nFrom me\r\nFrom\nFromage\n.From x\nx\r\n.",
        "long_line": b"word " * 60 + b"\n" + b"x" * 300,
        "equals": b"a=b==c===\n=\r\n" + b"=" * 100,
        "mixed_breaks": b"a\rb\r\nc\nd\n\re\r\r\n\n",
        "controls": bytes(range(0, 32)) + b"\x7f\x80\xff",
        "latin1": "café crème brûlée\n".encode("latin-1"),
        "bad_utf8": b"\xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
    }
    for n in (1, 2, 3, 56, 57, 58, 59, 1000, 100000):
        s["binary_%d" % n] = _random_bytes(rng, n)
    special = b" \t\r\n.Frm=a\x00\xc3\xa9\xff"
    for i in range(6):
        s["special_%d" % i] = _random_bytes(rng, rng.randrange(1, 3000), special)
    words = [b"alpha", b"beta", b"x", b"=", b"caf\xc3\xa9", b"\t", b" ", b"From", b".", b"longer-word"]
    for i in range(4):
        parts = []
        for _ in range(rng.randrange(50, 2000)):
            parts.append(rng.choice(words))
            parts.append(rng.choice([b" ", b" ", b" ", b"", b"\n", b"\r\n", b"\r"]))
        s["words_%d" % i] = b"".join(parts)
    return s


SAMPLES = _samples()


def _crlf(data):
    return re.sub(rb"\r\n|\r|\n", b"\r\n", data)


def _lines(out):
    """Encoded lines; the output must use CRLF only."""
    assert b"\r" not in out.replace(b"\r\n", b""), "bare CR in output"
    assert b"\n" not in out.replace(b"\r\n", b""), "bare LF in output"
    return out.split(b"\r\n")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_base64_is_pythons_with_crlf(probe, name):
    data = SAMPLES[name]
    want = base64.encodebytes(data).replace(b"\n", b"\r\n")
    for chunk in CHUNKS:
        out = probe("base64", chunk, data=data)
        assert out == want, "chunk %d" % chunk
    assert base64.b64decode(out, validate=False) == data
    assert all(len(line) <= 76 for line in _lines(out))
    assert int(probe("size", "base64", data=data)) == len(out)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_qp_decodes_back(probe, name):
    data = SAMPLES[name]
    want = _crlf(data)
    out = probe("qp", 0, data=data)
    for chunk in CHUNKS[1:]:
        assert probe("qp", chunk, data=data) == out, "chunk %d" % chunk
    assert int(probe("size", "qp", data=data)) == len(out)
    for line in _lines(out):
        assert len(line) <= 76, line
        assert not line.endswith((b" ", b"\t")), line
        assert not line.startswith((b".", b"From ")), line
        assert all(32 <= c <= 126 or c == 9 for c in line), line
    assert binascii.a2b_qp(out) == want
    assert quopri.decodestring(out) == want
    # A second, independent decoder (it gives "\n" line ends).
    text = email.quoprimime.decode(out.decode("ascii"))
    assert text.encode("latin-1") == want.replace(b"\r\n", b"\n")


def _plain_text(rng):
    """Short CRLF lines where any correct encoder must give the same bytes:
    no line over 70, none starting with '.' or "From ", no bare CR or LF."""
    pieces = [b"Hello", b"world", b"a=b", b"caf\xc3\xa9", b"\xe2\x82\xac5", b"tab\there", b"x", b"!?#$%&*+-/:;<>@[]^_`{|}~"]
    lines = []
    for _ in range(rng.randrange(1, 30)):
        line = b""
        while len(line) < rng.randrange(0, 60):
            line += rng.choice(pieces) + rng.choice([b" ", b"", b"  "])
        line += rng.choice([b"", b" ", b"\t", b"  "])
        lines.append(line)
    return b"\r\n".join(lines) + rng.choice([b"", b"\r\n"])


def test_qp_is_pythons_on_plain_text(probe):
    rng = random.Random(1521)
    for _ in range(150):
        data = _plain_text(rng)
        assert probe("qp", 0, data=data) == binascii.b2a_qp(data, istext=True), data
    # The quopri module says the same.
    data = b"Price: 5 = five\r\ncaf\xc3\xa9 cr\xc3\xa8me \r\nend\t"
    assert probe("qp", 3, data=data) == quopri.encodestring(data) == b"Price: 5 =3D five\r\ncaf=C3=A9 cr=C3=A8me=20\r\nend=09"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_text_encoder(probe, name):
    data = SAMPLES[name]
    want = _crlf(data)
    if want and not want.endswith(b"\r\n"):
        want += b"\r\n"
    for chunk in CHUNKS:
        assert probe("text", chunk, data=data) == want, "chunk %d" % chunk
    assert int(probe("size", "text", data=data)) == len(want)


def _python_scan(data):
    pieces = re.split(rb"\r\n|\r|\n", data)
    breaks = re.findall(rb"\r\n|\r|\n", data)
    try:
        data.decode("utf-8", errors="strict")
        valid = 1
    except UnicodeDecodeError:
        valid = 0
    return {
        "bytes": len(data),
        "non_ascii": sum(c >= 0x80 for c in data),
        "controls": sum((c < 32 and c not in (9, 10, 13)) or c == 0x7F for c in data),
        "lines": 0 if not data else len(pieces) - (1 if pieces[-1] == b"" else 0),
        "longest_line": max(len(p) for p in pieces),
        "bare_cr_or_lf": int(any(b != b"\r\n" for b in breaks)),
        "valid_utf8": valid,
    }


UTF8_EDGES = [b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xed\x9f\xbf", b"\xee\x80\x80",
              b"\xf4\x8f\xbf\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf",
              b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\x80", b"\xff", b"\xc3", b"\xe2\x82"]


def test_scan_matches_python(probe):
    rng = random.Random(3629)
    cases = list(SAMPLES.values())
    for edge in UTF8_EDGES:
        cases += [edge, b"a" + edge, edge + b"z\r\n", b"x\n" + edge + edge]
    for _ in range(60):
        cases.append(b"".join(rng.choice([b"ab", b" ", b"\r", b"\n", b"\r\n", b"\x01", b"\x7f"] + UTF8_EDGES)
                              for _ in range(rng.randrange(0, 40))))
    for data in cases:
        want = _python_scan(data)
        for chunk in (0, 1, 5):
            line = probe("scan", chunk, data=data).decode()
            got = dict(kv.split("=") for kv in line.split())
            for key, value in want.items():
                assert int(got[key]) == value, (key, data, chunk)


def test_cte_choice_for_typical_parts(probe):
    def choice(data):
        line = probe("scan", 0, data=data).decode()
        return dict(kv.split("=") for kv in line.split())

    c = choice(b"Hello,\r\nsee you tomorrow.\r\n")
    assert (c["text"], c["text_8bit"], c["other"]) == ("7bit", "7bit", "7bit")
    c = choice("Grüße aus Köln, wir sehen uns morgen um zehn Uhr im Büro.\n".encode())
    assert (c["text"], c["text_8bit"], c["other"]) == ("quoted-printable", "8bit", "base64")
    c = choice("Привет, мир!\n".encode())
    assert (c["text"], c["text_8bit"]) == ("base64", "8bit")
    c = choice(SAMPLES["binary_1000"])
    assert (c["text"], c["other"]) == ("base64", "base64")


# Extensions whose registered type Python's built-in table gives too.
AGREED = ["avi", "avif", "bmp", "css", "csv", "doc", "eml", "gif", "heic", "htm", "html", "ico", "jpeg", "jpg",
          "json", "mov", "mp3", "mp4", "mpeg", "pdf", "png", "ppt", "ps", "rtf", "svg", "tar", "tif", "tiff", "tsv",
          "txt", "wasm", "webm", "webp", "xls", "zip"]


def test_types_agree_with_python_mimetypes(probe):
    table = mimetypes.MimeTypes()   # built-in map only, not /etc/mime.types
    names = ["file." + e for e in AGREED] + ["DIR/FILE." + e.upper() for e in AGREED]
    got = probe("type", *names).decode().split("\n")
    for name, ours in zip(names, got):
        assert ours == table.guess_type(name, strict=False)[0], name
    assert probe("type", "a.tar.gz", "C:\\x\\y.Docx", "noext", ".hidden").decode().split("\n")[:4] == [
        "application/gzip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/octet-stream",
        "application/octet-stream",
    ]
