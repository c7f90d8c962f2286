#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets from readable descriptions.

    python3 tests/fuzz/make_engine_seeds.py        # rewrites tests/fuzz/corpus/{engine,reply,body}/

engine/: realistic server conversations for tests/fuzz/fuzz_engine.c, one per
mode (security none / starttls / implicit TLS / opportunistic, pipelining and
chunking on and off, every AUTH mechanism, DSN, all-or-nothing) plus the
failure paths the engine must handle (refusals, 421, STARTTLS injection and
stripping, HELO fallback, body source failure). The layout is the one
fuzz_engine.c documents: a 5-byte header of option bits, then NUL-separated
segments in the order the driver takes them (server bytes for each read, the
message body when the engine wants it). The seeds must reach the end of the
session: `build/fuzz/fuzz_engine -runs=0 tests/fuzz/corpus/engine` replays
them, and the coverage it reports is the baseline.

reply/ and body/ hold seeds for fuzz_reply.c and fuzz_body.c (2 header bytes
choosing chunk sizes, then the bytes).

Only the standard library is used. The SCRAM-SHA-256 exchange is computed
the way fuzz_engine.c runs it: the client nonce comes from its fixed
RAND_bytes and PBKDF2 runs one iteration.
"""
import base64
import hashlib
import hmac
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

USER = "user"
PASSWORD = "pencil"
TOKEN = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"

# ---------------------------------------------------------------- engine header

SECURITY = {"none": 0, "starttls": 1, "tls": 2, "opportunistic": 3}
MECH = {None: 0, "PLAIN": 1, "LOGIN": 2, "CRAM-MD5": 3, "XOAUTH2": 4, "SCRAM-SHA-256": 5}
PIECES = [0, 1, 2, 3, 7, 16, 64, 512]


def header(security="none", pipelining=True, chunking=False, creds=False, allow_plain=False, aon=False,
           token=False, mech=None, n_rcpt=1, dsn=False, msgs=1, eight_bit=0, size_hint=False, env_aon=None,
           tls_fail=False, abort_body=False, simple=False, largest=0, seed=0, bdat_chunk=0, utf8=False,
           batch=False):
    b0 = (SECURITY[security] | pipelining << 2 | chunking << 3 | creds << 4 | allow_plain << 5 | aon << 6
          | token << 7)
    b1 = MECH[mech] | (n_rcpt - 1) << 3 | dsn << 5 | msgs << 6
    b2 = (({0: 0, 1: 1, -1: 2}[eight_bit] if not utf8 else 3) | size_hint << 2 | {None: 0, False: 1, True: 2}[env_aon] << 3
          | tls_fail << 5 | abort_body << 6 | simple << 7)
    b3 = PIECES.index(largest) | seed << 3
    return bytes([b0, b1, b2, b3, bdat_chunk | batch << 7])


# ---------------------------------------------------------------- server lines

GREETING = "220 mx.example.test ESMTP Postfix\r\n"
CAPS = ["PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "ENHANCEDSTATUSCODES", "CHUNKING",
        "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 XOAUTH2", "SMTPUTF8"]


def multiline(code, lines):
    return "".join("%d%s%s\r\n" % (code, "-" if i + 1 < len(lines) else " ", l) for i, l in enumerate(lines))


def ehlo(caps):
    return multiline(250, ["mx.example.test"] + list(caps))


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def scram_exchange():
    """334 lines for a SCRAM-SHA-256 exchange with fuzz_engine's fixed nonce."""
    cnonce = b64(bytes((i * 7 + 1) & 0xFF for i in range(24)))
    nonce = cnonce + "3rfcNHYJY1ZVvWVs7j"
    salt = b"W22ZaJ0SNY7soEsUEjb6gQ=="
    salt_raw = base64.b64decode(salt)
    server_first = "r=%s,s=%s,i=4096" % (nonce, salt.decode())
    client_first_bare = "n=%s,r=%s" % (USER, cnonce)
    cfwp = "c=biws,r=" + nonce
    auth = ",".join([client_first_bare, server_first, cfwp]).encode()
    salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt_raw, 1)  # one iteration: see fuzz_engine.c
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    signature = hmac.new(server_key, auth, hashlib.sha256).digest()
    return ["334 %s\r\n" % b64(server_first), "334 %s\r\n" % b64("v=" + b64(signature))]


AUTH_OK = "235 2.7.0 Authentication successful\r\n"
AUTH = {
    "PLAIN": [AUTH_OK],
    "LOGIN": ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", AUTH_OK],
    "CRAM-MD5": ["334 %s\r\n" % b64("<1896.697170952@postoffice.example.net>"), AUTH_OK],
    "XOAUTH2": [AUTH_OK],
    "SCRAM-SHA-256": scram_exchange() + [AUTH_OK],
}

MAIL_OK = "250 2.1.0 Ok\r\n"
RCPT_OK = "250 2.1.5 Ok\r\n"
GO = "354 End data with <CR><LF>.<CR><LF>\r\n"
QUEUED = "250 2.0.0 Ok: queued as 4ABC123DEF\r\n"

BODIES = [
    "Subject: hello\r\nFrom: <sender@example.test>\r\n\r\nHello.\r\n",
    # SMTP smuggling patterns (security notes) and dots at line starts.
    "Subject: x\r\n\r\na\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r\n.\r.leading\r\n..double\r\nlast line without end",
    ".\r\n",
    "",
    "x\r\n.\r\nMAIL FROM:<evil@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n",
    ".\n.\n.\n.\n.\r.\r.\r\n.",
    "\r\r\n\n\r\n.\r\n\r.",
]


def normalised(body):
    out, i, n = [], 0, len(body)
    while i < n:
        j = i
        while j < n and body[j] not in "\r\n":
            j += 1
        out.append(body[i:j] + "\r\n")
        if j < n and body[j] == "\r" and j + 1 < n and body[j + 1] == "\n":
            j += 1
        i = j + 1
    return "".join(out)


def bdat_frames(body, chunk):
    """Frames the engine writes for a body given in one piece."""
    if not chunk:
        return 1
    written = len(normalised(body)) - (0 if body == "" or body[-1] in "\r\n" else 2)
    return 2 if written >= chunk else 1


def message(pipelined, chunking, n_rcpt, body, rcpt=None, final=QUEUED, aon=False, bdat_chunk=0, mail=MAIL_OK):
    """Segments for one transaction in the order the driver takes them."""
    rcpt = rcpt or [RCPT_OK] * n_rcpt
    ends = [final] * bdat_frames(body, bdat_chunk) if chunking else [final]
    if pipelined:
        envelope = mail + "".join(rcpt)
        if chunking:
            if aon:
                return [envelope, body, "".join(ends)]
            return [body, envelope + "".join(ends)]
        if aon:
            return [envelope, GO, body, final]
        return [envelope + GO, body, final]
    segs = [mail] + rcpt
    if chunking:
        return segs + [body] + ends
    return segs + [GO, body, final]


def session(security="none", caps=CAPS, mech=None, msgs=(), starttls_caps=None, tail=()):
    segs = [GREETING]
    if security in ("starttls", "opportunistic"):
        segs += [ehlo((starttls_caps or caps) + ["STARTTLS"]), "220 2.0.0 Ready to start TLS\r\n"]
    segs.append(ehlo(caps))
    if mech:
        segs += AUTH[mech]
    for m in msgs:
        segs += m
    return segs + list(tail)


def enc(segs):
    return "\0".join(segs).encode("utf-8", "surrogateescape")


def engine_seeds():
    s = {}
    # Plain sessions, each combination of pipelining and chunking.
    for pipe in (True, False):
        for chunk in (False, True):
            name = "none_%s_%s" % ("pipe" if pipe else "nopipe", "bdat" if chunk else "data")
            s[name] = header(pipelining=pipe, chunking=chunk, n_rcpt=2, msgs=2) + enc(session(msgs=[
                message(pipe, chunk, 2, BODIES[0]),
                message(pipe, chunk, 2, BODIES[1], rcpt=[RCPT_OK, "550 5.1.1 <rcpt1@example.test>: unknown\r\n"])]))
    # STARTTLS, then AUTH, one mechanism each; implicit TLS likewise.
    for i, mech in enumerate(["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"]):
        pipe, chunk = i % 2 == 0, i >= 2
        s["starttls_auth_%s" % mech.lower()] = header(
            security="starttls", creds=True, mech=mech, pipelining=pipe, chunking=chunk, n_rcpt=3, dsn=True,
            bdat_chunk=16 if chunk else 0) + enc(session(
                "starttls", mech=mech, msgs=[message(pipe, chunk, 3, BODIES[1], bdat_chunk=16 if chunk else 0)]))
        s["tls_auth_%s" % mech.lower()] = header(
            security="tls", creds=True, mech=mech, pipelining=not pipe, chunking=not chunk, simple=True) + enc(
                session("tls", mech=mech, msgs=[message(not pipe, not chunk, 1, BODIES[i + 2])],
                        tail=["250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n"]))
    s["tls_auth_strongest"] = header(security="tls", creds=True, mech=None) + enc(
        session("tls", mech="SCRAM-SHA-256", msgs=[message(True, False, 1, BODIES[0])]))
    s["tls_xoauth2"] = header(security="tls", token=True, mech="XOAUTH2", chunking=True) + enc(
        session("tls", mech="XOAUTH2", msgs=[message(True, True, 1, BODIES[0])]))
    s["tls_xoauth2_refused"] = header(security="tls", token=True, mech="XOAUTH2") + enc(
        [GREETING, ehlo(CAPS), "334 %s\r\n" % b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'),
         "535 5.7.8 Username and Password not accepted\r\n"])
    s["tls_auth_535"] = header(security="tls", creds=True, mech="LOGIN") + enc(
        [GREETING, ehlo(CAPS), "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n",
         "535 5.7.8 Error: authentication failed\r\n"])
    s["tls_scram_server_error"] = header(security="tls", creds=True, mech="SCRAM-SHA-256") + enc(
        [GREETING, ehlo(CAPS), "334 %s\r\n" % b64("e=invalid-proof"), "535 5.7.8 failed\r\n"])
    # Opportunistic: no STARTTLS offered (clear text, AUTH allowed), or refused.
    caps_no_tls = [c for c in CAPS if c != "STARTTLS"]
    s["opportunistic_clear_auth"] = header(security="opportunistic", creds=True, allow_plain=True, mech="PLAIN") + enc(
        [GREETING, ehlo(caps_no_tls), AUTH_OK] + message(True, False, 1, BODIES[0]))
    s["opportunistic_refused"] = header(security="opportunistic", n_rcpt=2) + enc(
        [GREETING, ehlo(CAPS + ["STARTTLS"]), "454 4.7.0 TLS not available\r\n"] +
        message(True, False, 2, BODIES[4]))
    s["opportunistic_starttls"] = header(security="opportunistic", chunking=True, pipelining=False) + enc(
        session("opportunistic", msgs=[message(False, True, 1, BODIES[5])]))
    # STARTTLS attacks (security notes).
    s["starttls_injection"] = header(security="starttls", creds=True) + enc(
        [GREETING, ehlo(CAPS + ["STARTTLS"]), "220 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"])
    s["starttls_stripped"] = header(security="starttls", creds=True) + enc([GREETING, ehlo(CAPS)])
    s["starttls_454"] = header(security="starttls") + enc([GREETING, ehlo(CAPS + ["STARTTLS"]), "454 4.7.0 no\r\n"])
    s["starttls_handshake_fails"] = header(security="starttls", tls_fail=True) + enc(
        [GREETING, ehlo(CAPS + ["STARTTLS"]), "220 2.0.0 go\r\n"])
    s["starttls_caps_change"] = header(security="starttls", chunking=True, creds=True, mech="PLAIN") + enc(
        session("starttls", caps=["AUTH PLAIN", "8BITMIME"], starttls_caps=["CHUNKING", "PIPELINING", "XFAKE"],
                mech="PLAIN", msgs=[message(False, False, 1, BODIES[0])]))
    s["no_auth_in_clear"] = header(security="none", creds=True, mech="PLAIN") + enc([GREETING, ehlo(CAPS)])
    # Old servers, odd replies.
    s["helo_fallback"] = header(pipelining=True) + enc(
        [GREETING, "502 5.5.1 command not implemented\r\n", "250 mx.example.test\r\n"] +
        message(False, False, 1, BODIES[0]))
    s["multiline_greeting"] = header(largest=7, seed=5) + enc(
        ["220-mx.example.test ESMTP\r\n220-no UCE\r\n220 welcome\r\n", ehlo(CAPS)] + message(True, False, 1, BODIES[0]))
    s["greeting_421"] = header() + enc(["421 4.3.2 Service not available, closing channel\r\n"])
    s["greeting_554"] = header() + enc(["554 5.7.1 no service for you\r\n"])
    s["bare_lf_replies"] = header() + enc(
        ["220 mx\n", "250-mx\n250 PIPELINING\n", "250 ok\n250 ok\n354 go\n", BODIES[0], "250 ok\n"])
    # Transaction failures, with a second message after the RSET.
    s["all_refused_then_ok"] = header(n_rcpt=2, msgs=2) + enc(session(msgs=[
        ["250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n550 5.1.1 unknown\r\n554 5.5.1 Error: no valid recipients\r\n",
         "250 2.0.0 Ok\r\n"],
        message(True, False, 2, BODIES[0])]))
    s["data_354_no_recipient"] = header(n_rcpt=1) + enc(session(msgs=[
        ["250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n354 go ahead anyway\r\n", "554 5.5.1 no valid recipients\r\n",
         "250 2.0.0 Ok\r\n"]]))
    s["all_or_nothing_partial"] = header(aon=True, n_rcpt=3, msgs=2) + enc(session(msgs=[
        [MAIL_OK + RCPT_OK + "450 4.2.0 greylisted\r\n" + RCPT_OK, "250 2.0.0 Ok\r\n"],
        message(True, False, 3, BODIES[0], aon=True)]))
    s["all_or_nothing_bdat"] = header(env_aon=True, chunking=True, n_rcpt=2) + enc(session(msgs=[
        message(True, True, 2, BODIES[1], aon=True)]))
    s["sender_refused"] = header(n_rcpt=1, msgs=2) + enc(session(msgs=[
        ["553 5.7.1 <sender@example.test>: Sender address rejected: not owned by user\r\n"
         "503 5.5.1 Error: need MAIL command\r\n", "503 5.5.1 Error: need RCPT command\r\n", "250 2.0.0 Ok\r\n"],
        message(True, False, 1, BODIES[0])]))
    s["sender_refused_nopipe"] = header(pipelining=False) + enc(session(msgs=[
        ["553 5.7.1 sender rejected\r\n", "250 2.0.0 Ok\r\n"]]))
    s["relay_denied"] = header() + enc(session(msgs=[
        [MAIL_OK + "554 5.7.1 <rcpt0@example.test>: Relay access denied\r\n554 5.5.1 no valid recipients\r\n",
         "250 ok\r\n"]]))
    s["too_big_after_data"] = header() + enc(session(msgs=[
        message(True, False, 1, BODIES[0], final="552 5.3.4 Error: message file too big\r\n") + ["250 ok\r\n"]]))
    s["bdat_frames_refused"] = header(chunking=True, bdat_chunk=10) + enc(session(msgs=[
        [BODIES[1], MAIL_OK + "550 5.1.1 unknown\r\n503 5.5.1 no valid recipients\r\n"
                             "503 5.5.1 no valid recipients\r\n", "250 ok\r\n"]]))
    s["mid_transaction_421"] = header(n_rcpt=2) + enc(session(msgs=[[MAIL_OK + "421 4.7.0 too many errors\r\n"]]))
    s["idle_421"] = header() + enc([GREETING, ehlo(CAPS) + "421 4.4.2 idle timeout\r\n"])
    s["mail_421"] = header() + enc([GREETING, ehlo(CAPS), "421 4.4.2 idle timeout\r\n"])
    s["closed_mid_data"] = header() + enc(session(msgs=[[MAIL_OK + RCPT_OK + GO, BODIES[0]]]))
    s["final_then_stray_reply"] = header() + enc(session(msgs=[
        [MAIL_OK + RCPT_OK + GO, BODIES[0], QUEUED + "250 stray\r\n"]]))
    # Local refusals and caller failures.
    s["eight_bit_without_8bitmime"] = header(eight_bit=1) + enc([GREETING, ehlo(["PIPELINING"])])
    s["eight_bit_smtputf8"] = header(eight_bit=-1, dsn=True, n_rcpt=4) + enc(session(msgs=[
        message(True, False, 4, BODIES[1])]))
    s["utf8_smtputf8"] = header(utf8=True, dsn=True, n_rcpt=2) + enc(session(msgs=[message(True, False, 2, BODIES[0])]))
    s["utf8_without_smtputf8"] = header(utf8=True) + enc([GREETING, ehlo(["PIPELINING", "8BITMIME"])])
    s["over_size_limit"] = header(size_hint=True) + enc([GREETING, ehlo(["SIZE 1000"])])
    s["size_ok"] = header(size_hint=True, pipelining=False) + enc(session(msgs=[message(False, False, 1, BODIES[0])]))
    s["body_abort_data"] = header(abort_body=True) + enc(session(msgs=[[MAIL_OK + RCPT_OK + GO, BODIES[1]]]))
    s["body_abort_bdat"] = header(abort_body=True, chunking=True, pipelining=False, msgs=2) + enc(session(msgs=[
        [MAIL_OK, RCPT_OK, BODIES[1], "250 ok\r\n"], message(False, True, 1, BODIES[0])]))
    s["noop_rset"] = header(simple=True) + enc(session(msgs=[message(True, False, 1, BODIES[6])],
                                                       tail=["250 2.0.0 Ok\r\n", "500 5.5.2 what\r\n"]))
    # Batches: the next message begun before the replies to the previous one.
    # BDAT: three messages written before the first read, each after the
    # first behind an RSET; then every reply at once.
    env1 = MAIL_OK + RCPT_OK
    s["batch_bdat"] = header(chunking=True, msgs=3, batch=True) + enc(
        [GREETING, ehlo(CAPS), BODIES[0], BODIES[1], BODIES[2],
         env1 + QUEUED + ("250 2.0.0 Ok\r\n" + env1 + QUEUED) * 2])
    # The first message's recipient refused (its BDAT too): the second still goes.
    s["batch_bdat_refused_first"] = header(chunking=True, msgs=2, batch=True, largest=7, seed=3) + enc(
        [GREETING, ehlo(CAPS), BODIES[0], BODIES[1],
         MAIL_OK + "550 5.1.1 <rcpt0@example.test>: unknown\r\n" + "554 5.5.1 Error: no valid recipients\r\n"
         + "250 2.0.0 Ok\r\n" + env1 + QUEUED])
    # DATA: each end of data shares a write with the next envelope.
    s["batch_data"] = header(msgs=3, batch=True) + enc(
        [GREETING, ehlo(CAPS), env1 + GO, BODIES[0], QUEUED + env1 + GO, BODIES[1], QUEUED + env1 + GO, BODIES[2],
         QUEUED])
    # The connection drops with two messages in flight after the first was accepted.
    s["batch_bdat_dropped"] = header(chunking=True, msgs=3, batch=True) + enc(
        [GREETING, ehlo(CAPS), BODIES[0], BODIES[1], BODIES[2], env1 + QUEUED + "250 2.0.0 Ok\r\n" + MAIL_OK])
    # The same sessions fed in small pieces.
    s["byte_at_a_time"] = header(largest=1, n_rcpt=2, chunking=True) + enc(session(msgs=[
        message(True, True, 2, BODIES[1])]))
    s["small_pieces_starttls"] = header(security="starttls", largest=3, seed=9, creds=True, mech="LOGIN") + enc(
        session("starttls", mech="LOGIN", msgs=[message(True, False, 1, BODIES[1])]))
    # A very long capability line (just under the limit) and a 100-line EHLO.
    s["long_ehlo"] = header() + enc([GREETING, ehlo(CAPS + ["X" * 4000] + ["XCAP%d" % i for i in range(100)])] +
                                    message(True, False, 1, BODIES[0]))
    return s


# ---------------------------------------------------------------- reply and body seeds

def reply_seeds():
    z = b"\x00\x00"
    r = {
        "greeting": z + GREETING.encode(),
        "ehlo": bytes([5, 17]) + ehlo(CAPS).encode(),
        "conversation": bytes([3, 1]) + (GREETING + ehlo(CAPS) + MAIL_OK + RCPT_OK + GO + QUEUED).encode(),
        "enhanced": bytes([4, 2]) + b"550 5.1.1 <x@y>: Recipient address rejected\r\n452 4.5.3 Too many\r\n"
                                  b"250 2.0.0\r\n354 3.0.0 go\r\n221 2.0.0 Bye\r\n553 5.7.1\r\n",
        "bare_codes": bytes([1, 3]) + b"250\r\n250 \r\n250-\r\n250 x\n220 ok\r\n",
        "malformed": bytes([2, 4]) + b"250 ok\r\n2500 x\r\n",
        "code_change": z + b"250-a\r\n251 b\r\n",
        "out_of_range": z + b"199 x\r\n",
        "nul_inside": z + b"250 a\x00b\r\n",
        "bare_cr": z + b"250 a\rb\r\n",
        "starttls_injection": bytes([8 | 2, 7]) + b"220 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n",
        "line_at_limit": bytes([7, 1]) + b"250 " + b"x" * 4092 + b"\r\n250 ok\r\n",
        "line_over_limit": bytes([6, 1]) + b"250 " + b"x" * 4093 + b"\r\n",
        # The limit exactly, with bare LF line ends (no CR to strip).
        "line_at_limit_lf": bytes([5, 3]) + b"250 " + b"x" * 4092 + b"\n250 ok\n",
        "line_over_limit_lf": bytes([0, 0]) + b"250 " + b"x" * 4093 + b"\n",
        "unterminated_long": bytes([6, 9]) + b"250 ok\r\n" + b"x" * 4200,
        "many_lines": bytes([6, 2]) + b"250-x\r\n" * 511 + b"250 x\r\n",
        "too_many_lines": bytes([7, 2]) + b"250-x\r\n" * 512 + b"250 x\r\n",
    }
    return r


def body_seeds():
    pats = [b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r\n.\r", b".", b"x\r\n.\r\ny", b".\r\n", b"\r\n.\r\n",
            b"..\r\n.\r\n...", b"no end", b"a\r\r\nb\n\rc", b"\r", b"\n", b""]
    b = {}
    for i, p in enumerate(pats):
        b["pattern_%02d" % i] = bytes([i & 7, i]) + p
    b["every_line_a_dot"] = bytes([0, 0]) + b".\r\n" * 300
    b["every_line_a_dot_lf"] = bytes([1, 5]) + b".\n" * 300
    b["message"] = bytes([5, 11]) + BODIES[0].encode() + BODIES[1].encode()
    b["binary"] = bytes([6 | 8, 3]) + bytes(range(256))
    return b


def write(dirname, seeds):
    d = os.path.join(CORPUS, dirname)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (d, len(seeds)))


if __name__ == "__main__":
    write("engine", engine_seeds())
    write("reply", reply_seeds())
    write("body", body_seeds())
