#!/usr/bin/python3
"""faultserver -- a small, scriptable, misbehaving SMTP server for tests.

Standard library only.  A script is a list of steps (dicts); every accepted
connection runs its script from the first step.  Everything the client sends
is recorded by a background reader thread with time.monotonic() timestamps,
also while the script sleeps or streams.

Python use::

    from faultserver.faultserver import FaultServer, greet_ehlo
    script = greet_ehlo(["PIPELINING"]) + [{"expect": "QUIT"}, {"send": "221 bye\\r\\n"}]
    with FaultServer(script) as srv:
        ...connect to 127.0.0.1:srv.port...
        srv.assert_ok(timeout=5)      # script finished without error
        srv.transcript                 # [("S", b"220 ..."), ("C", b"EHLO ..."), ...]

CLI use::

    /usr/bin/python3 faultserver.py --script s.json [--tls-cert C --tls-key K]
        [--transcript out.json] [--max-connections N] [--timeout S] [--lifetime S]

prints "PORT <n>" (flushed), serves until every connection's script is done
(or SIGTERM/SIGINT or --lifetime), writes the JSON transcript, prints
"DONE ok", "DONE interrupted" (a script was cut short by the signal/lifetime)
or "DONE error: ..." and exits 0 (no script error), 1 (script error) or
2 (bad arguments/script).

Steps (one kind key per dict; "comment" is ignored; unknown keys -> ScriptError).
Byte-valued fields take str (UTF-8 encoded) or bytes; in JSON use the *_hex
variants for raw bytes.  "timeout" defaults to the server's timeout.

  {"send": s} / {"send_hex": h}         one write (single sendall, TCP_NODELAY)
  {"expect": prefix}                    read one line, must start with prefix
                                        (case-insensitive); opts timeout, max_line
                                        (default 4096, incl. CRLF), allow_bare_lf
  {"expect_re": pattern}                same, re.match against the line without
                                        CRLF (bytes regex; use (?i) for case)
  {"expect_any": n}                     read n lines, whatever they are
  {"read_data": true}                   read DATA content up to CRLF.CRLF; appends
                                        raw dot-stuffed bytes (up to and including
                                        the CRLF before ".") to .data; opts timeout
                                        (idle), max_bytes
  {"read_bdat": true}                   read "BDAT <n> [LAST]" + n bytes; appends
                                        (chunk, is_last) to .bdat; opts reply
                                        (sent after each chunk), until_last,
                                        timeout, max_line, max_bytes
  {"starttls": true}                    TLS handshake as server, continue in TLS;
                                        opts timeout, allow_fail (end quietly)
  {"tls_garbage": true}                 wait up to "wait" s (2) for the ClientHello,
                                        send "data"/"data_hex" (default garbage),
                                        close unless "close": false
  {"sleep": s}                          pause (client bytes are still recorded)
  {"close": true}                       close now; opts rst (TCP RST), notify
                                        (TLS close_notify); must be last
  {"drip": s, "interval": 0.1}          one write per byte, interval between
  {"send_repeat": s, "count": n}        s * n, streamed in ~64 KiB writes
  {"send_big_line": n}                  prefix + n fill bytes + CRLF, streamed;
                                        opts prefix, fill ("x"), crlf (true),
                                        chunk (65536), interval (between chunks)
  {"wait_close": s}                     wait until client closes or s elapse
  {"expect_close": s}                   error unless the client closes within s
  {"expect_silence": s}                 error if, within s, the client has sent
                                        any byte not consumed by earlier steps
  {"mark": name}                        .marks[name] = time.monotonic()

A write failing because the client hung up (EPIPE/ECONNRESET) ends the script
quietly (Connection.aborted_at = step index, no error).  A read step that hits
EOF, a mismatch, a timeout or a TLS failure sets .error and closes.  When the
script ends the connection is closed (TLS: with close_notify).
"""

import argparse
import binascii
import errno
import itertools
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback

__all__ = [
    "FaultServer", "Connection", "Record", "ScriptError",
    "normalize_script", "load_script", "load_spec",
    "greet", "greet_ehlo", "ehlo_reply", "starttls_steps", "accept_mail", "quit_steps",
    "DEFAULT_GARBAGE",
]

DEFAULT_TIMEOUT = 10.0          # per-step timeout (expect/read/starttls) and send-stall timeout
DEFAULT_MAX_LINE = 4096         # max bytes of a command line incl. CRLF for expect steps
DEFAULT_MAX_BYTES = 64 << 20    # max DATA message / BDAT chunk size
STREAM_CHUNK = 65536            # write size for streaming steps
HEAD_KEEP = 4096                # bytes of a streamed write kept in the transcript
RECV_SIZE = 262144
POLL_MS = 50

DEFAULT_GARBAGE = b"NOT A TLS RECORD -- faultserver garbage\r\n" * 4

# step kind -> allowed option keys (besides the kind key itself and "comment")
_STEP_OPTIONS = {
    "send": set(),
    "expect": {"timeout", "max_line", "allow_bare_lf"},
    "expect_re": {"timeout", "max_line", "allow_bare_lf"},
    "expect_any": {"timeout", "max_line", "allow_bare_lf"},
    "read_data": {"timeout", "max_bytes"},
    "read_bdat": {"timeout", "max_line", "max_bytes", "reply", "until_last", "allow_bare_lf"},
    "starttls": {"timeout", "allow_fail"},
    "tls_garbage": {"data", "wait", "close"},
    "sleep": set(),
    "close": {"rst", "notify"},
    "drip": {"interval"},
    "send_repeat": {"count"},
    "send_big_line": {"prefix", "fill", "crlf", "chunk", "interval"},
    "wait_close": set(),
    "expect_close": set(),
    "expect_silence": set(),
    "mark": set(),
}
# JSON-friendly aliases whose value is hex: alias -> (kind, field)
_HEX_KINDS = {"send_hex": "send", "drip_hex": "drip", "send_repeat_hex": "send_repeat"}
_HEX_OPTIONS = {"data_hex": "data", "reply_hex": "reply", "prefix_hex": "prefix", "fill_hex": "fill"}
_BYTES_FIELDS = {"send", "drip", "send_repeat", "data", "reply", "prefix", "fill"}


class ScriptError(ValueError):
    """Raised for an invalid script (at FaultServer construction time)."""


def _to_bytes(v, what):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    raise ScriptError("%s: expected str or bytes, got %r" % (what, type(v).__name__))


def _unhex(v, what):
    if not isinstance(v, str):
        raise ScriptError("%s: hex value must be a string" % what)
    try:
        return binascii.unhexlify(re.sub(r"\s+", "", v))
    except (binascii.Error, ValueError) as e:
        raise ScriptError("%s: bad hex: %s" % (what, e))


def _normalize_step(i, step):
    if not isinstance(step, dict):
        raise ScriptError("step %d: must be a dict, got %r" % (i, step))
    st = dict(step)
    st.pop("comment", None)
    for alias, field in _HEX_OPTIONS.items():
        if alias in st:
            st[field] = _unhex(st.pop(alias), "step %d %s" % (i, alias))
    kinds = [k for k in st if k in _STEP_OPTIONS or k in _HEX_KINDS]
    if len(kinds) != 1:
        raise ScriptError("step %d: need exactly one step kind among %s, got %r"
                          % (i, sorted(list(_STEP_OPTIONS) + list(_HEX_KINDS)), step))
    kind = kinds[0]
    if kind in _HEX_KINDS:
        val = _unhex(st.pop(kind), "step %d %s" % (i, kind))
        kind = _HEX_KINDS[kind]
        st[kind] = val
    extra = set(st) - {kind} - _STEP_OPTIONS[kind]
    if extra:
        raise ScriptError("step %d (%s): unknown option(s) %s; allowed: %s"
                          % (i, kind, sorted(extra), sorted(_STEP_OPTIONS[kind])))
    for f in _BYTES_FIELDS:
        if f in st:
            st[f] = _to_bytes(st[f], "step %d %s" % (i, f))
    # per-kind checks
    v = st[kind]
    if kind == "expect":
        st[kind] = _to_bytes(v, "step %d expect" % i)
    elif kind == "expect_re":
        if not isinstance(v, (str, bytes)):
            raise ScriptError("step %d: expect_re needs a str pattern" % i)
        try:
            pat = v.encode("utf-8") if isinstance(v, str) else v
            st["_re"] = re.compile(pat)
        except re.error as e:
            raise ScriptError("step %d: bad regex %r: %s" % (i, v, e))
    elif kind == "expect_any":
        if not isinstance(v, int) or v < 0:
            raise ScriptError("step %d: expect_any needs a count >= 0" % i)
    elif kind in ("sleep", "wait_close", "expect_close", "expect_silence"):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise ScriptError("step %d: %s needs a number of seconds" % (i, kind))
    elif kind == "send_repeat":
        if not v:
            raise ScriptError("step %d: send_repeat needs non-empty data" % i)
        if not isinstance(st.get("count"), int) or st["count"] < 0:
            raise ScriptError("step %d: send_repeat needs an integer 'count'" % i)
    elif kind == "send_big_line":
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ScriptError("step %d: send_big_line needs a byte count" % i)
        st["fill"] = st.get("fill", b"x")
        if not st["fill"]:
            raise ScriptError("step %d: fill must be non-empty" % i)
        st["prefix"] = st.get("prefix", b"")
        if not isinstance(st.get("chunk", STREAM_CHUNK), int) or st.get("chunk", STREAM_CHUNK) <= 0:
            raise ScriptError("step %d: chunk must be a positive int" % i)
    elif kind == "mark":
        if not isinstance(v, str):
            raise ScriptError("step %d: mark needs a name string" % i)
    return kind, st


def normalize_script(script):
    """Validate a script (list of step dicts) and return a list of (kind, options)."""
    if isinstance(script, dict) or not isinstance(script, (list, tuple)):
        raise ScriptError("a script must be a list of steps")
    out = [_normalize_step(i, s) for i, s in enumerate(script)]
    for i, (kind, st) in enumerate(out):
        ends = kind == "close" or (kind == "tls_garbage" and st.get("close", True))
        if ends and i != len(out) - 1:
            raise ScriptError("step %d (%s) closes the connection; it must be the last step" % (i, kind))
    return out


def load_spec(path):
    """Load a JSON file: either a list (the script) or an object with keys
    "script" (required), "per_connection" (list of scripts), "max_connections", "timeout".
    Returns a dict with those keys."""
    with open(path, "r", encoding="utf-8") as f:
        spec = json.load(f)
    if isinstance(spec, list):
        spec = {"script": spec}
    if not isinstance(spec, dict) or "script" not in spec:
        raise ScriptError("%s: expected a list of steps or an object with a 'script' key" % path)
    unknown = set(spec) - {"script", "per_connection", "max_connections", "timeout", "comment"}
    if unknown:
        raise ScriptError("%s: unknown top-level keys %s" % (path, sorted(unknown)))
    spec.pop("comment", None)
    return spec


def load_script(path):
    """Load just the script (list of steps) from a JSON file."""
    return load_spec(path)["script"]


# ---------------------------------------------------------------------------
# helpers building common step sequences

def ehlo_reply(caps=(), domain="faultserver.test"):
    """Bytes of a 250 EHLO reply listing caps (multi-line if caps)."""
    lines = [domain] + list(caps)
    out = []
    for i, l in enumerate(lines):
        out.append("250%s%s\r\n" % (" " if i == len(lines) - 1 else "-", l))
    return "".join(out).encode("utf-8")


def greet(greeting="220 faultserver.test ESMTP faultserver\r\n"):
    return [{"send": greeting}]


def greet_ehlo(caps=("PIPELINING", "8BITMIME"), greeting="220 faultserver.test ESMTP faultserver\r\n",
               domain="faultserver.test"):
    """Steps: send the 220 greeting, expect EHLO, reply 250 with caps."""
    return [{"send": greeting}, {"expect": "EHLO"}, {"send": ehlo_reply(caps, domain)}]


def starttls_steps(caps_after=("PIPELINING", "8BITMIME"), domain="faultserver.test"):
    """Steps: expect STARTTLS, 220, TLS handshake, expect EHLO, reply caps_after."""
    return [{"expect": "STARTTLS"}, {"send": "220 2.0.0 Ready to start TLS\r\n"}, {"starttls": True},
            {"expect": "EHLO"}, {"send": ehlo_reply(caps_after, domain)}]


def accept_mail(rcpts=1):
    """Steps for one ordinary transaction: MAIL, rcpts x RCPT, DATA, content."""
    steps = [{"expect": "MAIL FROM:"}, {"send": "250 2.1.0 Ok\r\n"}]
    for _ in range(rcpts):
        steps += [{"expect": "RCPT TO:"}, {"send": "250 2.1.5 Ok\r\n"}]
    steps += [{"expect": "DATA"}, {"send": "354 End data with <CR><LF>.<CR><LF>\r\n"},
              {"read_data": True}, {"send": "250 2.0.0 Ok: queued\r\n"}]
    return steps


def quit_steps(wait=2.0):
    """Steps: expect QUIT, reply 221, wait (up to wait s) for the client to close."""
    return [{"expect": "QUIT"}, {"send": "221 2.0.0 Bye\r\n"}, {"wait_close": wait}]


# ---------------------------------------------------------------------------

class Record(tuple):
    """One transcript entry; a tuple (direction, data) with extra attributes:

    t        time.monotonic() when the bytes were received ("C") or when the
             write started ("S")
    t_end    when the write finished ("S"); == t for "C"
    tls      True if the bytes travelled inside TLS (data is the plaintext)
    size     bytes actually transferred; for streamed writes (send_repeat,
             send_big_line) data holds only the first HEAD_KEEP bytes
    truncated  size > len(data)
    """

    def __new__(cls, direction, data, t, tls=False, size=None):
        self = tuple.__new__(cls, (direction, data))
        self.t = t
        self.t_end = t
        self.tls = tls
        self.size = len(data) if size is None else size
        self.truncated = False
        return self

    @property
    def direction(self):
        return self[0]

    @property
    def data(self):
        return self[1]

    def to_json(self, t0):
        return {"dir": self[0], "t": self.t, "rel": round(self.t - t0, 6),
                "t_end": self.t_end, "tls": self.tls, "size": self.size,
                "truncated": self.truncated, "text": self[1].decode("latin-1"),
                "hex": self[1].hex()}


class _StepError(Exception):
    pass


class _Hangup(Exception):
    pass


class _Stopped(Exception):
    pass


class _End(Exception):
    pass


class Connection:
    """State and results of one accepted connection.

    Public attributes (read them after done):
      index, peer, t0 (monotonic accept time), transcript (list of Record),
      lines (list of bytes: every line consumed by expect*/read_bdat, with CRLF),
      data (list of bytes: DATA contents, dot-stuffed, up to and including the
            CRLF before the final ".", i.e. without the ".\\r\\n" terminator line),
      bdat (list of (chunk bytes, is_last)),
      error (str or None), completed (all steps ran), aborted_at (step index
      where a write failed because the client hung up, else None), abort_reason,
      interrupted (stop() cut the script short), done (bool), done_event,
      client_closed_at (monotonic time of client EOF/reset or None),
      client_close_reason ("eof" | "reset" | other), tls_version, tls_cipher,
      tls_error, marks (name -> monotonic), events (list of (t, name, detail)),
      step_log (list of (index, kind, t_start, t_end)).
    """

    def __init__(self, server, index, sock, peer, script):
        self.server = server
        self.index = index
        self.sock = sock
        self.peer = peer
        self.script = script
        self.t0 = time.monotonic()
        self.transcript = []
        self.lines = []
        self.data = []
        self.bdat = []
        self.events = []
        self.marks = {}
        self.step_log = []
        self.error = None
        self.completed = False
        self.aborted_at = None
        self.abort_reason = None
        self.interrupted = False
        self.done_event = threading.Event()
        self.client_closed_at = None
        self.client_close_reason = None
        self.tls_version = None
        self.tls_cipher = None
        self.tls_error = None
        self._cond = threading.Condition(threading.RLock())
        self._send_lock = threading.Lock()
        self._buf = bytearray()
        self._eof = False
        self._closing = False
        self._closed = False
        self._tls = False
        self._ssl = None
        self._bio_in = None
        self._bio_out = None
        self._hs_done = False
        self._tls_closed = False
        self._reader = threading.Thread(target=self._reader_loop, daemon=True,
                                        name="faultserver-reader-%d" % index)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="faultserver-script-%d" % index)

    # -- public helpers ---------------------------------------------------
    @property
    def done(self):
        return self.done_event.is_set()

    def client_bytes(self, tls=None):
        """All bytes the client sent (plaintext), joined; tls=True/False filters."""
        return b"".join(r[1] for r in list(self.transcript)
                        if r[0] == "C" and (tls is None or r.tls == tls))

    def server_bytes(self):
        """All bytes the server wrote (streamed writes only by their head)."""
        return b"".join(r[1] for r in list(self.transcript) if r[0] == "S")

    def client_records_after(self, t):
        """Client records received strictly after monotonic time t."""
        return [r for r in list(self.transcript) if r[0] == "C" and r.t > t]

    def last_server_write_end(self):
        ts = [r.t_end for r in list(self.transcript) if r[0] == "S"]
        return ts[-1] if ts else None

    def format(self):
        """Human-readable dump for assertion messages."""
        out = ["connection %d: completed=%s error=%r aborted_at=%r client_closed=%s"
               % (self.index, self.completed, self.error, self.aborted_at,
                  None if self.client_closed_at is None else
                  "%.3fs(%s)" % (self.client_closed_at - self.t0, self.client_close_reason))]
        for r in list(self.transcript):
            d = r[1] if len(r[1]) <= 300 else r[1][:300] + b"..."
            out.append("  %+8.3f %s%s %r%s" % (r.t - self.t0, r[0], "*" if r.tls else " ", d,
                                              " (%d bytes)" % r.size if r.truncated else ""))
        return "\n".join(out)

    def to_json(self):
        return {
            "index": self.index, "t0": self.t0, "completed": self.completed,
            "error": self.error, "aborted_at": self.aborted_at,
            "abort_reason": self.abort_reason, "interrupted": self.interrupted,
            "client_closed_at": self.client_closed_at,
            "client_closed_rel": None if self.client_closed_at is None else
            round(self.client_closed_at - self.t0, 6),
            "client_close_reason": self.client_close_reason,
            "tls_version": self.tls_version, "tls_cipher": self.tls_cipher,
            "tls_error": self.tls_error, "marks": dict(self.marks),
            "lines": [l.decode("latin-1") for l in self.lines],
            "data": [{"text": d.decode("latin-1"), "hex": d.hex()} for d in self.data],
            "bdat": [{"text": c.decode("latin-1"), "hex": c.hex(), "last": last}
                     for c, last in self.bdat],
            "events": [[t, n, d] for t, n, d in self.events],
            "transcript": [r.to_json(self.t0) for r in list(self.transcript)],
        }

    # -- recording --------------------------------------------------------
    def _event(self, name, detail=None):
        self.events.append((time.monotonic(), name, detail))

    def _record(self, direction, data, tls=False, size=None):
        r = Record(direction, bytes(data), time.monotonic(), tls, size)
        with self._cond:
            self.transcript.append(r)
        return r

    # -- reader thread ----------------------------------------------------
    def _stopping(self):
        return self.server._stopping.is_set()

    def _reader_loop(self):
        try:
            p = select.poll()
            p.register(self.sock, select.POLLIN | select.POLLPRI)
            while not self._closing and not self._stopping():
                if not p.poll(POLL_MS):
                    continue
                if self._recv_once() == "closed":
                    break
        except Exception as e:  # pragma: no cover - defensive
            self._event("reader_error", repr(e))
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _recv_once(self):
        """Returns "data", "empty" (would block) or "closed"."""
        if self._eof:
            return "closed"
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return "empty"
        except OSError as e:
            self._on_eof("reset" if e.errno == errno.ECONNRESET else "error: %s" % e)
            return "closed"
        if not data:
            self._on_eof("eof")
            return "closed"
        self._on_data(data)
        return "data"

    def _on_eof(self, reason):
        with self._cond:
            if not self._eof:
                self._eof = True
                self.client_closed_at = time.monotonic()
                self.client_close_reason = reason
                self._event("client_close", reason)
            self._cond.notify_all()

    def _on_data(self, data):
        out = b""
        self._cond.acquire()
        try:
            if not self._tls:
                self._buf += data
                self._record("C", data)
            else:
                self._bio_in.write(data)
                self._tls_pump()
                out = self._bio_out.read()
                if out:
                    self._send_lock.acquire()
            self._cond.notify_all()
        finally:
            self._cond.release()
        if out:
            try:
                self._send_raw(out)
            except Exception as e:
                self._event("tls_flush_failed", repr(e))
            finally:
                self._send_lock.release()

    def _tls_pump(self):
        """Drive the TLS state machine; caller holds self._cond."""
        if self.tls_error is not None:
            return
        if not self._hs_done:
            try:
                self._ssl.do_handshake()
            except ssl.SSLWantReadError:
                return
            except (ssl.SSLError, ValueError, OSError) as e:
                self.tls_error = "%s: %s" % (type(e).__name__, e)
                self._event("tls_error", self.tls_error)
                return
            self._hs_done = True
            self.tls_version = self._ssl.version()
            c = self._ssl.cipher()
            self.tls_cipher = c[0] if c else None
            self._event("tls_established", self.tls_version)
        while True:
            try:
                chunk = self._ssl.read(RECV_SIZE)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                if not self._tls_closed:
                    self._tls_closed = True
                    self._event("tls_close_notify")
                return
            except (ssl.SSLError, ValueError) as e:
                self.tls_error = "%s: %s" % (type(e).__name__, e)
                self._event("tls_error", self.tls_error)
                return
            if not chunk:
                return
            self._buf += chunk
            self._record("C", chunk, tls=True)

    # -- sending ----------------------------------------------------------
    def _send_raw(self, data):
        """Send all of data on the non-blocking socket. Raises _Hangup if the
        client went away, _StepError if it stopped reading for send_timeout."""
        view = memoryview(data)
        off = 0
        stall = self.server.send_timeout
        deadline = time.monotonic() + stall
        p = None
        while off < len(view):
            if self._stopping():
                raise _Stopped()
            try:
                n = self.sock.send(view[off:off + RECV_SIZE])
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN,
                               errno.ECONNABORTED, errno.EBADF):
                    raise _Hangup("%s while sending" % (errno.errorcode.get(e.errno, e.errno)))
                raise
            if n:
                off += n
                deadline = time.monotonic() + stall
                continue
            now = time.monotonic()
            if now >= deadline:
                raise _StepError("send stalled: client read nothing for %.1fs (%d of %d bytes sent)"
                                 % (stall, off, len(view)))
            if p is None:
                p = select.poll()
                p.register(self.sock, select.POLLOUT)
            p.poll(min(POLL_MS, max(1, int((deadline - now) * 1000))))

    def _write(self, data, record=True):
        """One write of data (plain or through TLS). Returns the Record (or None)."""
        data = bytes(data)
        rec = self._record("S", data, tls=self._tls) if record else None
        if not data:
            return rec
        if not self._tls:
            with self._send_lock:
                self._send_raw(data)
        else:
            self._cond.acquire()
            try:
                if self.tls_error is not None or not self._hs_done:
                    raise _StepError("cannot write over TLS: %s" % (self.tls_error or "no handshake"))
                try:
                    view = memoryview(data)
                    while view:
                        n = self._ssl.write(view)
                        view = view[n:]
                except ssl.SSLError as e:
                    if self._eof or self._tls_closed:
                        raise _Hangup("TLS write after client close: %s" % e)
                    raise _StepError("TLS write failed: %s" % e)
                out = self._bio_out.read()
                self._send_lock.acquire()
            finally:
                self._cond.release()
            try:
                self._send_raw(out)
            finally:
                self._send_lock.release()
        if rec is not None:
            rec.t_end = time.monotonic()
        return rec

    def _stream(self, pieces, interval=0.0):
        """Write an iterable of chunks; record one truncated Record."""
        it = iter(pieces)
        first = []
        head = bytearray()
        for piece in it:
            first.append(piece)
            head += piece[:HEAD_KEEP - len(head)]
            if len(head) >= HEAD_KEEP:
                break
        rec = self._record("S", head, tls=self._tls, size=0)
        try:
            for k, piece in enumerate(itertools.chain(first, it)):
                if k and interval:
                    self._sleep(interval)
                self._write(piece, record=False)
                rec.size += len(piece)
        finally:
            rec.truncated = rec.size != len(head)
            rec.t_end = time.monotonic()

    # -- waiting / reading helpers -------------------------------------------
    def _input_done(self):
        return self._eof or self.tls_error is not None or self._tls_closed

    def _sleep(self, seconds):
        if self.server._stopping.wait(seconds):
            raise _Stopped()

    def _wait(self, remaining):
        """Caller holds _cond."""
        if self._stopping():
            raise _Stopped()
        self._cond.wait(min(max(remaining, 0.001), 0.2))
        if self._stopping():
            raise _Stopped()

    def _closed_msg(self):
        if self.tls_error is not None:
            return "TLS error: %s" % self.tls_error
        if self._tls_closed:
            return "client sent TLS close_notify"
        return "client closed the connection (%s)" % self.client_close_reason

    def _read_line(self, st):
        limit = st.get("max_line", self.server.max_line)
        timeout = st.get("timeout", self.server.timeout)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                idx = self._buf.find(b"\n", 0, limit)
                if idx >= 0:
                    line = bytes(self._buf[:idx + 1])
                    del self._buf[:idx + 1]
                    break
                if len(self._buf) >= limit:
                    raise _StepError("line longer than %d bytes: %r..." % (limit, bytes(self._buf[:80])))
                if self._input_done():
                    raise _StepError("%s while waiting for a line (partial: %r)"
                                     % (self._closed_msg(), bytes(self._buf[:200])))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _StepError("timeout after %.3gs waiting for a line (partial: %r)"
                                     % (timeout, bytes(self._buf[:200])))
                self._wait(remaining)
        self.lines.append(line)
        if not line.endswith(b"\r\n") and not st.get("allow_bare_lf"):
            raise _StepError("line not CRLF-terminated: %r" % line)
        return line

    def _read_exact(self, n, st):
        timeout = st.get("timeout", self.server.timeout)
        deadline = time.monotonic() + timeout
        have = -1
        with self._cond:
            while len(self._buf) < n:
                if len(self._buf) != have:          # progress resets the idle timeout
                    have = len(self._buf)
                    deadline = time.monotonic() + timeout
                if self._input_done():
                    raise _StepError("%s after %d of %d bytes" % (self._closed_msg(), len(self._buf), n))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _StepError("timeout: no data for %.3gs, got %d of %d bytes"
                                     % (timeout, len(self._buf), n))
                self._wait(remaining)
            chunk = bytes(self._buf[:n])
            del self._buf[:n]
        return chunk

    # -- steps --------------------------------------------------------------
    def _do_send(self, st):
        self._write(st["send"])

    def _do_expect(self, st):
        line = self._read_line(st)
        want = st["expect"]
        if not line.lower().startswith(want.lower()):
            raise _StepError("expected line starting with %r, got %r" % (want, line))

    def _do_expect_re(self, st):
        line = self._read_line(st)
        if not st["_re"].match(line.rstrip(b"\r\n")):
            raise _StepError("expected line matching %r, got %r" % (st["expect_re"], line))

    def _do_expect_any(self, st):
        for _ in range(st["expect_any"]):
            self._read_line(st)

    def _do_read_data(self, st):
        max_bytes = st.get("max_bytes", DEFAULT_MAX_BYTES)
        timeout = st.get("timeout", self.server.timeout)
        scan = 0
        have = -1
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._buf.startswith(b".\r\n"):
                    msg, consumed = b"", 3
                    break
                idx = self._buf.find(b"\r\n.\r\n", max(0, scan - 4))
                if idx >= 0:
                    msg, consumed = bytes(self._buf[:idx + 2]), idx + 5
                    break
                scan = len(self._buf)
                if scan > max_bytes:
                    raise _StepError("DATA content exceeds max_bytes=%d" % max_bytes)
                if scan != have:
                    have = scan
                    deadline = time.monotonic() + timeout
                if self._input_done():
                    raise _StepError("%s during DATA after %d bytes (tail %r)"
                                     % (self._closed_msg(), scan, bytes(self._buf[-80:])))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _StepError("timeout: no DATA progress for %.3gs (%d bytes so far, tail %r)"
                                     % (timeout, scan, bytes(self._buf[-80:])))
                self._wait(remaining)
            del self._buf[:consumed]
        self.data.append(msg)

    _BDAT_RE = re.compile(rb"(?i)BDAT[ \t]+([0-9]+)(?:[ \t]+(LAST))?[ \t]*\r?\n\Z")

    def _do_read_bdat(self, st):
        max_bytes = st.get("max_bytes", DEFAULT_MAX_BYTES)
        while True:
            line = self._read_line(st)
            m = self._BDAT_RE.match(line)
            if not m:
                raise _StepError("expected 'BDAT <n> [LAST]', got %r" % line)
            n = int(m.group(1))
            last = m.group(2) is not None
            if n > max_bytes:
                raise _StepError("BDAT size %d exceeds max_bytes=%d" % (n, max_bytes))
            chunk = self._read_exact(n, st)
            self.bdat.append((chunk, last))
            if "reply" in st:
                self._write(st["reply"])
            if last or not st.get("until_last"):
                return

    def _do_starttls(self, st):
        ctx = self.server._ssl_ctx
        if ctx is None:
            raise _StepError("starttls: the server has no tls_cert/tls_key (or ssl_context)")
        timeout = st.get("timeout", self.server.timeout)
        out = b""
        self._cond.acquire()
        try:
            if self._tls:
                raise _StepError("starttls: already in TLS")
            self._bio_in = ssl.MemoryBIO()
            self._bio_out = ssl.MemoryBIO()
            self._ssl = ctx.wrap_bio(self._bio_in, self._bio_out, server_side=True)
            leftover = bytes(self._buf)
            del self._buf[:]
            self._tls = True
            self._event("tls_start", len(leftover))
            if leftover:
                self._bio_in.write(leftover)
            self._tls_pump()
            out = self._bio_out.read()
            if out:
                self._send_lock.acquire()
        finally:
            self._cond.release()
        if out:
            try:
                self._send_raw(out)
            finally:
                self._send_lock.release()
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._hs_done and self.tls_error is None and not self._eof:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wait(remaining)
            ok = self._hs_done
            why = (self.tls_error or ("client closed (%s)" % self.client_close_reason if self._eof
                                      else "timeout after %.3gs" % timeout))
        if ok:
            return
        if self.tls_error is None:
            self.tls_error = why
        if st.get("allow_fail"):
            self._close()
            raise _End()
        raise _StepError("TLS handshake failed: %s" % why)

    def _do_tls_garbage(self, st):
        wait = st.get("wait", 2.0)
        deadline = time.monotonic() + wait
        with self._cond:
            while not self._buf and not self._input_done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wait(remaining)
        self._write(st.get("data", DEFAULT_GARBAGE))
        if st.get("close", True):
            self._close()
            raise _End()

    def _do_sleep(self, st):
        self._sleep(st["sleep"])

    def _do_close(self, st):
        self._close(rst=st.get("rst", False), notify=st.get("notify", False))
        raise _End()

    def _do_drip(self, st):
        data = st["drip"]
        interval = st.get("interval", 0.1)
        for k in range(len(data)):
            if k and interval:
                self._sleep(interval)
            self._write(data[k:k + 1])

    def _do_send_repeat(self, st):
        unit = st["send_repeat"]
        count = st["count"]
        per = max(1, STREAM_CHUNK // len(unit))
        block = unit * per

        def gen():
            left = count
            while left > 0:
                n = min(per, left)
                yield block if n == per else unit * n
                left -= n
        self._stream(gen())

    def _do_send_big_line(self, st):
        n = st["send_big_line"]
        fill = st["fill"]
        size = st.get("chunk", STREAM_CHUNK)
        block = (fill * (size // len(fill) + 1))[:size]
        prefix = st["prefix"]
        crlf = st.get("crlf", True)

        def gen():
            if prefix:
                yield prefix
            left = n
            while left > 0:
                k = min(size, left)
                yield block if k == size else block[:k]
                left -= k
            if crlf:
                yield b"\r\n"
        self._stream(gen(), interval=st.get("interval", 0.0))

    def _wait_client_close(self, seconds):
        deadline = time.monotonic() + seconds
        with self._cond:
            while not (self._eof or self._tls_closed):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wait(remaining)
        return True

    def _do_wait_close(self, st):
        self._wait_client_close(st["wait_close"])

    def _do_expect_close(self, st):
        if not self._wait_client_close(st["expect_close"]):
            raise _StepError("client did not close the connection within %.3gs" % st["expect_close"])

    def _do_expect_silence(self, st):
        # Fails if, by the end of the window, the client has sent any bytes that
        # earlier steps did not consume (race-free w.r.t. the preceding write).
        seconds = st["expect_silence"]
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._wait(remaining)
            got = bytes(self._buf[:200])
            raise _StepError("client sent unexpected bytes (expected %.3gs of silence): %r"
                             % (seconds, got))

    def _do_mark(self, st):
        self.marks[st["mark"]] = time.monotonic()
        self._event("mark", st["mark"])

    # -- lifecycle ----------------------------------------------------------
    def _close(self, rst=False, notify=False):
        if self._closed:
            return
        self._closed = True
        if notify and self._tls and self._hs_done and not self._eof and self.tls_error is None:
            out = b""
            self._cond.acquire()
            try:
                try:
                    self._ssl.unwrap()
                except (ssl.SSLError, ValueError, OSError):
                    pass
                out = self._bio_out.read()
                if out:
                    self._send_lock.acquire()
            finally:
                self._cond.release()
            if out:
                try:
                    self._send_raw(out)
                except Exception:
                    pass
                finally:
                    self._send_lock.release()
        self._closing = True
        if threading.current_thread() is not self._reader and self._reader.is_alive():
            self._reader.join(5)
        # drain what already arrived so it is recorded (and so close() sends FIN, not RST)
        try:
            for _ in range(64):
                if self._recv_once() != "data":
                    break
        except Exception:
            pass
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self._event("server_close", "rst" if rst else "fin")
        with self._cond:
            self._cond.notify_all()

    def _run(self):
        self._event("accept", self.peer)
        self._reader.start()
        i, kind = -1, None
        try:
            try:
                for i, (kind, st) in enumerate(self.script):
                    t = time.monotonic()
                    try:
                        getattr(self, "_do_" + kind)(st)
                    finally:
                        self.step_log.append((i, kind, t, time.monotonic()))
                self.completed = True
                self._close(notify=True)
            except _End:
                self.completed = True
            except _Hangup as e:
                self.aborted_at = i
                self.abort_reason = str(e)
                self._event("client_hangup", "step %d (%s): %s" % (i, kind, e))
            except _StepError as e:
                self.error = "connection %d, step %d (%s): %s" % (self.index, i, kind, e)
                self._event("script_error", self.error)
            except _Stopped:
                self.interrupted = True
                self._event("interrupted", "step %d (%s)" % (i, kind))
            except Exception:
                self.error = "connection %d, step %d (%s): internal error:\n%s" % (
                    self.index, i, kind, traceback.format_exc())
            finally:
                self._close()
        finally:
            self.done_event.set()
            self.server._conn_done()


class FaultServer:
    """Scriptable misbehaving SMTP server.

    FaultServer(script, tls_cert=None, tls_key=None, host="127.0.0.1", *,
                max_connections=1, per_connection=None, timeout=10.0,
                send_timeout=None, max_line=4096, ssl_context=None, port=0)

    script          list of step dicts (see module docs); validated at construction
                    (ScriptError on unknown kinds/options).
    per_connection  optional list of scripts; connection i runs per_connection[i]
                    if present, else script.
    max_connections accept this many connections, then close the listener.
    timeout         default per-step timeout for expect*/read_*/starttls.
    send_timeout    fail a write if the client reads nothing for this long
                    (default: timeout).
    """

    def __init__(self, script, tls_cert=None, tls_key=None, host="127.0.0.1", *,
                 max_connections=1, per_connection=None, timeout=DEFAULT_TIMEOUT,
                 send_timeout=None, max_line=DEFAULT_MAX_LINE, ssl_context=None, port=0):
        self.script = normalize_script(script)
        self.per_connection = [normalize_script(s) for s in (per_connection or [])]
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.host = host
        self.max_connections = int(max_connections)
        self.timeout = float(timeout)
        self.send_timeout = float(send_timeout if send_timeout is not None else timeout)
        self.max_line = int(max_line)
        self.port = port
        self.conns = []
        self.server_error = None
        self._ssl_ctx = ssl_context
        self._ssl_ctx_given = ssl_context is not None
        self._stopping = threading.Event()
        self._lock = threading.Condition()
        self._lsock = None
        self._accept_thread = None
        self._started = False

    @classmethod
    def from_json(cls, path, **kw):
        """Build from a JSON file (list of steps, or object with "script",
        "per_connection", "max_connections", "timeout"); kw override."""
        spec = load_spec(path)
        args = {k: spec[k] for k in ("per_connection", "max_connections", "timeout") if k in spec}
        args.update(kw)
        return cls(spec["script"], **args)

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        if self._started:
            return self
        if self._ssl_ctx is None and (self.tls_cert or self.tls_key):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls_cert, self.tls_key or None)
            self._ssl_ctx = ctx
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.bind((self.host, self.port))
        s.listen(16)
        s.setblocking(False)
        self._lsock = s
        self.port = s.getsockname()[1]
        self._started = True
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="faultserver-accept")
        self._accept_thread.start()
        return self

    def _accept_loop(self):
        try:
            p = select.poll()
            p.register(self._lsock, select.POLLIN)
            n = 0
            while n < self.max_connections and not self._stopping.is_set():
                if not p.poll(POLL_MS):
                    continue
                try:
                    cs, addr = self._lsock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                cs.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                cs.setblocking(False)
                script = self.per_connection[n] if n < len(self.per_connection) else self.script
                conn = Connection(self, n, cs, addr, script)
                with self._lock:
                    self.conns.append(conn)
                    self._lock.notify_all()
                conn._thread.start()
                n += 1
        except Exception:
            self.server_error = "accept loop failed:\n" + traceback.format_exc()
        finally:
            try:
                self._lsock.close()
            except OSError:
                pass

    def _conn_done(self):
        with self._lock:
            self._lock.notify_all()

    def stop(self, timeout=5.0):
        """Stop accepting, interrupt running scripts, close all sockets."""
        if not self._started:
            return
        self._stopping.set()
        for c in list(self.conns):
            with c._cond:
                c._cond.notify_all()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        deadline = time.monotonic() + timeout
        for c in list(self.conns):
            c._thread.join(max(0.0, deadline - time.monotonic()))
            c._reader.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- waiting --------------------------------------------------------------
    def wait_connections(self, count=1, timeout=10.0):
        """Wait until at least count connections were accepted."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.conns) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.2))
        return True

    def wait_done(self, timeout=10.0, index=0):
        """Wait until connection `index` (default: the first) was accepted and
        its script finished (completed, failed, aborted or interrupted).
        Returns True if so, False on timeout."""
        deadline = time.monotonic() + timeout
        if not self.wait_connections(index + 1, timeout):
            return False
        return self.conns[index].done_event.wait(max(0.0, deadline - time.monotonic()))

    def wait_all_done(self, timeout=10.0, count=None):
        """Wait until `count` (default max_connections) connections were accepted
        and all of them finished."""
        count = self.max_connections if count is None else count
        deadline = time.monotonic() + timeout
        for i in range(count):
            if not self.wait_done(max(0.0, deadline - time.monotonic()), index=i):
                return False
        return True

    def assert_ok(self, timeout=10.0, count=1):
        """Wait for `count` connections to finish; raise AssertionError (with the
        transcripts) if that times out or any accepted connection has an error."""
        ok = self.wait_all_done(timeout, count)
        problems = []
        if not ok:
            problems.append("only %d connection(s) accepted / not all finished within %.3gs (wanted %d)"
                            % (len(self.conns), timeout, count))
        if self.error:
            problems.append(self.error)
        problems += ["connection %d was interrupted by stop() at %s" % (c.index, c.events[-1][2] if c.events else "?")
                     for c in list(self.conns) if c.interrupted]
        if problems:
            raise AssertionError("faultserver: " + "; ".join(problems) + "\n" + self.format())
        return self

    # -- results ------------------------------------------------------------
    @property
    def connections(self):
        """List of transcripts (lists of Record), one per accepted connection."""
        return [c.transcript for c in list(self.conns)]

    @property
    def last(self):
        """The last accepted Connection or None."""
        cs = list(self.conns)
        return cs[-1] if cs else None

    @property
    def transcript(self):
        """Transcript of the LAST accepted connection ([] if none)."""
        c = self.last
        return c.transcript if c else []

    @property
    def errors(self):
        errs = [self.server_error] if self.server_error else []
        return errs + [c.error for c in list(self.conns) if c.error]

    @property
    def error(self):
        """First script error (str) across connections, or None."""
        e = self.errors
        return e[0] if e else None

    @property
    def data(self):
        """DATA contents of all connections in order (raw, dot-stuffed)."""
        return [d for c in list(self.conns) for d in c.data]

    @property
    def bdat(self):
        return [b for c in list(self.conns) for b in c.bdat]

    @property
    def lines(self):
        return [l for c in list(self.conns) for l in c.lines]

    def format(self):
        if not self.conns:
            return "(no connections)"
        return "\n".join(c.format() for c in list(self.conns))

    def to_json(self):
        return {"port": self.port, "error": self.error, "errors": self.errors,
                "connections": [c.to_json() for c in list(self.conns)]}


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="scriptable misbehaving SMTP server")
    ap.add_argument("--script", required=True, help="JSON file: list of steps or {script, per_connection, ...}")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-connections", type=int)
    ap.add_argument("--timeout", type=float, help="default per-step timeout (s)")
    ap.add_argument("--lifetime", type=float, default=300.0,
                    help="exit after this many seconds regardless (default 300)")
    ap.add_argument("--transcript", help="write the JSON transcript here on exit")
    args = ap.parse_args(argv)

    kw = {}
    if args.max_connections is not None:
        kw["max_connections"] = args.max_connections
    if args.timeout is not None:
        kw["timeout"] = args.timeout
    try:
        srv = FaultServer.from_json(args.script, tls_cert=args.tls_cert, tls_key=args.tls_key,
                                    host=args.host, port=args.port, **kw)
        srv.start()
    except (ScriptError, OSError, ssl.SSLError, ValueError) as e:
        print("faultserver: %s" % e, file=sys.stderr)
        return 2

    quit_evt = threading.Event()

    def on_signal(signum, frame):
        quit_evt.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print("PORT %d" % srv.port, flush=True)
    deadline = time.monotonic() + args.lifetime
    while not quit_evt.is_set() and time.monotonic() < deadline:
        with srv._lock:
            if (len(srv.conns) >= srv.max_connections and all(c.done for c in srv.conns)):
                break
        quit_evt.wait(0.05)
    srv.stop()
    if args.transcript:
        tmp = args.transcript + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(srv.to_json(), f, indent=1)
        os.replace(tmp, args.transcript)
    if srv.error:
        print("faultserver: " + "\nfaultserver: ".join(srv.errors), file=sys.stderr)
        print("DONE error: %s" % srv.error.splitlines()[0], flush=True)
        return 1
    if any(c.interrupted for c in srv.conns):
        print("DONE interrupted", flush=True)
    else:
        print("DONE ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
