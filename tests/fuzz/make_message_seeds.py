#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_message (tests/fuzz/corpus/message/).

Each seed is a program of MIME builder calls in the input layout that
tests/fuzz/fuzz_message.c describes: two header bytes (render flags and
reader chunking), then op bytes with their arguments. Together the seeds
call every op, with values that work and values that must be refused.

    /usr/bin/python3 tests/fuzz/make_message_seeds.py
"""
import os
import struct

OPS = ["FROM", "SENDER", "TO", "CC", "BCC", "REPLY_TO", "ENV_SENDER", "SUBJECT", "TEXT", "HTML",
       "CALENDAR", "ATTACH", "EMBED", "HEADER", "DATE", "DKIM", "SEED"]

# Indexes into canned[] in fuzz_message.c (argument bytes 0xE0 + index).
NULL, EMPTY, ALICE, ALICE_NAMED, LAST_FIRST, BOB_CAROL, GROUP, UNDISCLOSED = range(8)
JOERG, UTF8_ADDR, EW_NAME, LITERAL, QUOTED_LOCAL, INJECTION, LONG_SUBJECT, MIXED_LINES = range(8, 16)
X_CUSTOM, MESSAGE_ID, ID_1, DATE, DATE_VALUE, REPORT_PDF, QUOTES_TXT, LONG_NAME = range(16, 24)
PDF, TEXT_PLAIN, PNG, CID, REFERENCES, EXAMPLE_COM, SEL1, H_LIST = range(24, 32)


class Canned:
    def __init__(self, index):
        self.index = index


def s(v):
    """A string argument: canned, or length-prefixed UTF-8/bytes."""
    if isinstance(v, int):
        return bytes([0xE0 + v])
    b = v.encode() if isinstance(v, str) else v
    assert len(b) < 0xD0
    return bytes([len(b)]) + b


def srep(v, count):
    """A string argument made of v repeated count times."""
    b = v.encode() if isinstance(v, str) else v
    return bytes([0xD0, count - 1, len(b)]) + b


def blob(v, repeat=1):
    """A blob argument: canned or raw bytes, repeated."""
    if isinstance(v, Canned):
        return bytes([v.index, 0xFF, repeat])
    b = v.encode() if isinstance(v, str) else v
    return struct.pack("<HB", len(b), repeat) + b


def op(name, *args):
    return bytes([OPS.index(name)]) + b"".join(args)


def program(flags, chunk, *ops, seed=7):
    return bytes([flags | chunk << 2, seed]) + b"".join(ops)


def dkim(domain, selector, headers, canon, ts):
    return op("DKIM", s(domain), s(selector), s(headers), bytes([canon | ts << 5]))


SEEDS = {
    "minimal": program(0, 5, op("FROM", s(ALICE)), op("TO", s("bob@example.net")),
                       op("SUBJECT", s("Hello")), op("TEXT", blob("Hi Bob,\nsee you.\n"))),
    "everything": program(
        1, 4,
        op("FROM", s(ALICE_NAMED)), op("SENDER", s("Office <office@example.com>")),
        op("TO", s(BOB_CAROL)), op("CC", s(GROUP)), op("BCC", s("hidden@example.org")),
        op("REPLY_TO", s(LAST_FIRST)), op("ENV_SENDER", s("bounces@example.com")),
        op("SUBJECT", s(LONG_SUBJECT)), op("TEXT", blob(Canned(MIXED_LINES))),
        op("HTML", blob("<p>Hello <img src=\"cid:img1@example.com\"></p>")),
        op("CALENDAR", blob("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"), s("request")),
        op("ATTACH", blob(b"%PDF-1.4\n\x00\x01\x02\xff binary"), s(REPORT_PDF), s(PDF)),
        op("EMBED", blob(b"\x89PNG\r\n\x1a\n...."), s(CID), s("logo.png"), s(NULL)),
        op("HEADER", s(X_CUSTOM), s("some value")), op("HEADER", s(MESSAGE_ID), s(ID_1)),
        op("HEADER", s(REFERENCES), s("<a@example.com> <b@example.com>")),
        op("DATE", struct.pack("<Q", 1700000000 + 1000)[:5], struct.pack("<h", -330)),
        dkim(EXAMPLE_COM, SEL1, NULL, 0, 2), dkim("example.org", "s2", H_LIST, 2, 0)),
    "refused-calls": program(
        0, 3,
        op("FROM", s("not an address")), op("FROM", s(INJECTION)), op("TO", s("a@b,,c@d")),
        op("SUBJECT", s("line\r\nBcc: victim@example.com")), op("HEADER", s("Bcc"), s("victim@example.com")),
        op("HEADER", s("X-Bad Name"), s("v")), op("HEADER", s(MESSAGE_ID), s("no-angle-brackets")),
        op("TEXT", blob(b"\xff\xfe not utf-8")), op("ATTACH", blob("x"), s(""), s(NULL)),
        op("ATTACH", blob("x"), s("a.txt"), s("not a type")), op("EMBED", blob("x"), s("bad cid"), s(NULL), s(NULL)),
        op("CALENDAR", blob("x"), s("bad method!")), op("DATE", b"\xff\xff\xff\xff\xff", b"\x00\x10"),
        dkim(EXAMPLE_COM, SEL1, NULL, 7, 0), dkim("localhost", SEL1, NULL, 0, 0),
        op("ENV_SENDER", s("Name <a@example.com>")), op("FROM", s(ALICE)), op("TO", s(ALICE))),
    "injection-in-values": program(
        0, 2,
        op("FROM", s(EW_NAME)), op("TO", s(UNDISCLOSED)), op("BCC", s("victim@example.com")),
        op("SUBJECT", s("=?UTF-8?B?QmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?= Bcc: x")),
        op("HEADER", s(X_CUSTOM), s("a\tb  c =?x?= Bcc: y")),
        op("ATTACH", blob("--=_sc0000000000000000\r\n"), s(QUOTES_TXT), s(TEXT_PLAIN)),
        op("ATTACH", blob("ok\r\n=_ and =?\r\n"), s(LONG_NAME), s(NULL)),
        op("TEXT", blob(".\r\nFrom here\r\n--=_sc\r\n"))),
    "long-lines": program(
        1, 0,
        op("FROM", s(ALICE)), op("TO", s(ALICE)), op("TEXT", blob("0123456789abcdefghij", 120)),
        op("HTML", blob("<p>" + "x" * 40 + " </p>", 40)),
        op("ATTACH", blob("line without end ", 80), s("long.txt"), s(TEXT_PLAIN)),
        op("SUBJECT", srep("word ", 40))),
    "smtputf8": program(
        3, 6,
        op("FROM", s(JOERG)), op("TO", s(UTF8_ADDR)), op("CC", s(LITERAL)), op("REPLY_TO", s(QUOTED_LOCAL)),
        op("ENV_SENDER", s("\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a")), op("SUBJECT", s("Gr\u00fc\u00dfe \U0001F600")),
        op("TEXT", blob("Gr\u00fc\u00dfe aus K\u00f6ln.\n\u00c7a va?\n")),
        op("ATTACH", blob("\u00e4\u00f6\u00fc\n"), s("\u00fcbersicht.txt"), s(NULL)),
        op("HEADER", s("X-Tag"), s("caf\u00e9"))),
    "utf8-file-name-ascii-body": program(
        2, 5,
        op("FROM", s(ALICE)), op("TO", s(ALICE)), op("TEXT", blob("ascii only\n")),
        op("ATTACH", blob("x"), s(LONG_NAME), s(TEXT_PLAIN))),
    "inline-without-html": program(
        0, 1,
        op("FROM", s(ALICE)), op("TO", s(ALICE)), op("EMBED", blob(b"\x00\x01\x02"), s(CID), s(NULL), s(PNG)),
        op("EMBED", blob("plain ascii\r\n"), s("c2@example.com"), s("c2.txt"), s(TEXT_PLAIN)),
        op("CALENDAR", blob("BEGIN:VCALENDAR\nEND:VCALENDAR"), s(NULL))),
    "envelope-senders": program(
        0, 7,
        op("FROM", s(ALICE)), op("TO", s("x@example.com, X@example.com, x@example.com")),
        op("CC", s("x@example.com")), op("BCC", s("y@example.com")), op("ENV_SENDER", s(EMPTY)),
        op("ENV_SENDER", s("<b@example.com>")), op("ENV_SENDER", s(" c@example.com ")),
        op("ENV_SENDER", s("d@example.com (comment)")), op("ENV_SENDER", s("e@B\u00dcCHER.example"))),
    "dkim-variants": program(
        0, 4,
        op("FROM", s(ALICE)), op("TO", s(ALICE)), op("TEXT", blob("body  with \t spaces  \r\n\r\n\r\n")),
        dkim(EXAMPLE_COM, SEL1, "from:to:subject:x-missing", 3, 7),
        dkim(EXAMPLE_COM, "sel2", "To:From :Subject", 4, 3), dkim(EXAMPLE_COM, "sel3", "X;Y", 1, 0),
        dkim(EXAMPLE_COM, "sel4", NULL, 1, 4), dkim(EXAMPLE_COM, "sel5", srep("X-Long-Name-", 80), 0, 2),
        op("HEADER", s(DATE), s(DATE_VALUE))),
    "seed-and-date": program(
        2, 5,
        op("SEED", struct.pack("<Q", 0x0123456789ABCDEF)), op("FROM", s(ALICE)), op("TO", s(ALICE)),
        op("DATE", struct.pack("<Q", 951782400 + 1000)[:5], struct.pack("<h", 840)),
        op("HTML", blob("<b>only html</b>")), op("HEADER", s("Date"), s("Tue, 29 Feb 2000 00:00:00 +1400")),
        op("HEADER", s("date"), s("Wed, 1 Mar 2000 00:00:00 +0000"))),
    "structured-long-word": program(
        0, 5,
        op("FROM", s(ALICE)), op("TO", s(ALICE)),
        op("HEADER", s(REFERENCES), s("<" + "r" * 180 + "@example.com>")),
        op("HEADER", s("X-Long"), srep("y", 210)), op("HEADER", s("In-Reply-To"), srep("<x@example.com>", 67)),
        op("SUBJECT", srep("zz", 250)), op("ATTACH", blob("a"), srep("long-name-", 30), s(NULL))),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "message")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
