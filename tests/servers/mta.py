#!/usr/bin/python3
"""A real, private MTA (Postfix + Dovecot SASL) on 127.0.0.1 for integration tests.

Needs only the Python standard library, the ``openssl`` command and the Debian
packages ``postfix`` and ``dovecot-core``.  Must run as root (the Postfix master
and Dovecot must).  Nothing under /etc/postfix or /etc/dovecot is read or
written, no system users are created, no syslog daemon is needed, and the
instance never delivers mail off the machine.

Usage::

    from tests.servers.mta import TestMTA          # or: from servers.mta import ...

    with TestMTA("/some/workdir") as mta:
        mta.ports["submission"]     # STARTTLS (may), AUTH only after TLS
        mta.ports["smtps"]          # implicit TLS (wrapper mode), AUTH
        mta.ports["plain"]          # no TLS at all, AUTH in the clear
        mta.ports["wrongcert"]      # like submission, cert is for DNS:wrong.example
        mta.ports["nochunk"]        # like submission, without CHUNKING and PIPELINING
        mta.ports["mx"]             # port-25 style: STARTTLS, no AUTH, local domain only
        mta.ca_file                 # PEM CA that signed both server certs
        mta.users                   # {"alice@example.test": "correct horse battery", ...}
        mta.wait_for_messages("alice", 1)  # -> [raw bytes of delivered file, ...]

API (all paths absolute; attributes valid after construction, ports after start())::

    TestMTA(workdir)           .start() -> self   .stop() (idempotent)   context manager
    .host = "127.0.0.1"        .ports = {name: int}   .domain = "example.test"
    .users = {addr: password}  .mailboxes = [...]     TestMTA.RELAYED = "_relayed"
    .ca_file .ca_key .server_cert .server_key .wrong_cert .wrong_key
    .maildir (= workdir/maildir, <localpart>/{new,cur,tmp})   .workdir
    .postfix_log .dovecot_log  .startup_seconds  .running  .info() -> dict
    .messages(localpart) -> [bytes]     oldest first; "alice", "alice@example.test"
                                        and "alice+x" all mean alice's Maildir
    .wait_for_messages(localpart, count, timeout=20) -> [bytes]  (MTATimeout)
    .wait_queue_empty(timeout=20)       Postfix has delivered everything accepted
    .queue_count() -> int   .clear()   .log_tail(n=50) -> str
    TestMTA.strip_trace(raw: bytes) -> bytes   (staticmethod, see below)
    Exceptions: MTAError > MTAStartError, MTATimeout (also a TimeoutError)

CLI (for demo scripts)::

    /usr/bin/python3 tests/servers/mta.py serve --workdir DIR

prints one JSON line (host, ports, ca_file, users, maildir, ...) and runs until
SIGTERM/SIGINT.

Layout and environment
----------------------
Everything lives under workdir: tls/ (CA + certs), postfix/{etc,spool,data,vmail},
dovecot/ (config, passwd-file, run/ = base_dir), log/ (postfix.log,
dovecot.log, stdout/stderr of both masters) and maildir -> postfix/vmail.  The
workdir's ancestors need not be searchable by the postfix/nobody/dovecot users
(pytest's /tmp/pytest-of-root is 0700): unprivileged Postfix processes reach
their files relative to their working directory via /proc/self/cwd, and the
Dovecot auth process runs as root.  The workdir path must be short enough for
the unix socket workdir/postfix/spool/private/auth (<= 107 bytes).  Ports are
picked by binding port 0 (retried if one gets taken before Postfix binds it).
A small watchdog process kills the daemons if the Python process dies without
stop() (e.g. SIGKILL).

Policy summary
--------------
* Local virtual domain ``example.test`` with Maildirs for alice, bob, carol,
  dave and erin (``recipient_delimiter = +``: ``alice+7@example.test`` lands in
  alice's Maildir, one file per recipient).  Unknown local users are rejected at
  RCPT with ``550 5.1.1 ... User unknown in virtual mailbox table``.
* submission / smtps / plain / wrongcert / nochunk: unauthenticated clients get
  ``554 5.7.1 <rcpt>: Relay access denied`` for foreign domains and
  ``554 5.7.1 <rcpt>: Recipient address rejected: Access denied`` for
  example.test.  Authenticated clients may send to any address.
* mx: no AUTH; example.test accepted, anything else ``554 5.7.1 ... Relay
  access denied``.
* Mail to foreign domains (only reachable after AUTH, plus bounces/DSNs to
  foreign senders) is never sent anywhere: it is delivered into the catch-all
  Maildir ``TestMTA.RELAYED`` (``"_relayed"``), readable with
  ``mta.messages(TestMTA.RELAYED)``.  No smtp(8) client is even configured.
* message_size_limit = 10240000 -> ``552 5.3.4`` beyond that.
* smtpd_recipient_limit = 2000.  smtpd error sleeps / error limits and
  Dovecot's per-IP auth penalty are disabled so that negative tests are fast;
  Dovecot 2.3.19 still answers a failed AUTH after ~0.5 s (hard-coded timer).

What Postfix changes in a delivered message (see strip_trace)
-------------------------------------------------------------
Configured so that Postfix does NOT add or rewrite headers:
``local_header_rewrite_clients =`` (by default clients on 127.0.0.1 count as
"local": they get Message-Id/Date/From added when missing and addresses
canonicalised -- "To: bob" -> "To: bob@localhost"), ``remote_header_rewrite_domain =``,
``always_add_missing_headers = no`` and ``message_drop_headers =`` (by default
Postfix deletes Bcc, Resent-Bcc, Content-Length and Return-Path headers).  So
no Message-ID, Date, From, To, Sender or Bcc header is added, removed or
rewritten, on any port.  What remains (verified by test_mta.py, Postfix
3.7.11), comparing the bytes a client sends in DATA/BDAT with the Maildir file:

1. Trace headers prepended at the top, in this order: ``Return-Path:
   <envelope sender>``, ``X-Original-To: <rcpt as given in RCPT TO>``,
   ``Delivered-To: <rcpt>`` (virtual(8)) and the folded 3-line ``Received:
   from ... by localhost (Postfix) with ESMTP[S][A] id ...; <date>`` (smtpd).
   One Maildir file per recipient.
2. Line endings: the file uses LF; every CRLF (and every bare LF) the client
   sent ends a line and is stored as LF.
3. CR characters: CRs immediately before a line end are dropped ("x\r\r\n"
   -> "x"); a bare CR inside a line is replaced by a space ("a\rb" -> "a b").
4. SMTP transparency: DATA dot-stuffing is undone (BDAT data is verbatim); a
   BDAT message whose last line lacks CRLF gets a line end.
5. Header/body structure (cleanup(8)): if the message does not start with a
   header line or an empty line, or if a non-header line appears inside the
   header block, an empty line is inserted there (so the body is separated
   from the headers); a leading mbox "From " line becomes "X-Mailbox-Line:
   From ..."; whitespace between a header name and its colon is removed
   ("Subject : x" -> "Subject: x").
Untouched: header folding and whitespace, header order and case, duplicate
headers, 8-bit/UTF-8 bytes and NULs, lines longer than line_length_limit
(stored as continuation records, written back joined), empty lines, "From "
lines in the body (no ">From" quoting in Maildir).
``TestMTA.strip_trace(raw)`` undoes 1 and 2 only, so for a DATA message that
ends in CRLF, has well-formed headers (or starts with an empty line) and no
CRs other than in CRLF, it returns exactly the bytes the client sent (before
dot-stuffing).
"""

import argparse
import atexit
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

__all__ = ["TestMTA", "MTAError", "MTAStartError", "MTATimeout"]

POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"
DOVECOT_BIN = "/usr/sbin/dovecot"
OPENSSL_BIN = "openssl"

# Unix-domain socket paths are limited to 108 bytes (including the NUL).
_SUN_PATH_MAX = 107


class MTAError(RuntimeError):
    """Base class for errors raised by TestMTA."""


class MTAStartError(MTAError):
    """start() failed; the message contains the reason and the log tail."""


class MTATimeout(MTAError, TimeoutError):
    """wait_for_messages()/wait_queue_empty() timed out (message has log tail)."""


def _uid(name, fallback):
    import pwd
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return fallback


def _gid(name, fallback):
    import grp
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return fallback


def _proc_sessions():
    """Yield (pid, pgid, sid) for every live (non-zombie) process in /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                data = f.read()
        except OSError:
            continue
        # comm may contain spaces/parentheses: fields start after the last ')'
        rest = data[data.rindex(b")") + 2:].split()
        # rest: state ppid pgrp session ...
        if rest[:1] in ([b"Z"], [b"X"]):  # exited, waiting to be reaped
            continue
        try:
            yield int(entry), int(rest[2]), int(rest[3])
        except (IndexError, ValueError):
            continue


# A tiny separate process that kills our daemons if the Python process that
# started them dies without calling stop() (SIGKILL, an unhandled SIGTERM,
# os._exit...).  It reads "+<sid>" lines from a pipe whose write end only we
# hold; EOF without a preceding "exit" line means we died.  (PR_SET_PDEATHSIG
# cannot be used: Postfix master and Dovecot change credentials at start-up,
# which clears it.)
_WATCHDOG = r"""
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
fd, sids, buf = int(sys.argv[1]), set(), b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except InterruptedError:
        continue
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for line in lines:
        if line == b"exit":
            sys.exit(0)
        if line[:1] == b"+":
            sids.add(int(line[1:]))

def members():
    out = []
    for e in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % e, "rb") as f:
                st = f.read()
        except (OSError, ValueError):
            continue
        r = st[st.rindex(b")") + 2:].split()
        if r[0] not in (b"Z", b"X") and (int(r[2]) in sids or int(r[3]) in sids):
            out.append(int(e))
    return out

for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        left = members()
        if not left:
            sys.exit(0)
        for pid in left:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        time.sleep(0.05)
"""


class TestMTA:
    """Private Postfix + Dovecot (SASL only) instance on 127.0.0.1."""

    __test__ = False  # not a pytest test class, despite the name

    HOST = "127.0.0.1"
    DOMAIN = "example.test"
    MAILBOXES = ("alice", "bob", "carol", "dave", "erin")
    RELAYED = "_relayed"  # catch-all Maildir for mail to non-local domains
    USERS = {
        "alice@example.test": "correct horse battery",
        "bob@example.test": "s3cret-Bob",
    }
    SASL_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256")
    MESSAGE_SIZE_LIMIT = 10240000
    RECIPIENT_LIMIT = 2000
    PORT_NAMES = ("submission", "smtps", "plain", "wrongcert", "nochunk", "mx")
    START_TIMEOUT = 20.0

    def __init__(self, workdir, message_size_limit=None):
        self.workdir = os.path.abspath(os.fspath(workdir))
        self.message_size_limit = message_size_limit or self.MESSAGE_SIZE_LIMIT
        self.host = self.HOST
        self.domain = self.DOMAIN
        self.mailboxes = list(self.MAILBOXES)
        self.users = dict(self.USERS)
        self.ports = {}
        w = self.workdir
        # TLS material
        self.tls_dir = os.path.join(w, "tls")
        self.ca_file = os.path.join(self.tls_dir, "ca.pem")
        self.ca_key = os.path.join(self.tls_dir, "ca.key")
        self.server_cert = os.path.join(self.tls_dir, "localhost.pem")
        self.server_key = os.path.join(self.tls_dir, "localhost.key")
        self.wrong_cert = os.path.join(self.tls_dir, "wrong.example.pem")
        self.wrong_key = os.path.join(self.tls_dir, "wrong.example.key")
        # Postfix
        self.postfix_dir = os.path.join(w, "postfix")
        self.postfix_conf_dir = os.path.join(self.postfix_dir, "etc")
        self.queue_dir = os.path.join(self.postfix_dir, "spool")
        self.data_dir = os.path.join(self.postfix_dir, "data")
        self.vmail_dir = os.path.join(self.postfix_dir, "vmail")
        # Dovecot
        self.dovecot_dir = os.path.join(w, "dovecot")
        self.dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        self.dovecot_base_dir = os.path.join(self.dovecot_dir, "run")
        self.dovecot_state_dir = os.path.join(self.dovecot_dir, "state")
        self.dovecot_users_file = os.path.join(self.dovecot_dir, "users")
        self.auth_socket = os.path.join(self.queue_dir, "private", "auth")
        # Logs and mail
        self.log_dir = os.path.join(w, "log")
        self.postfix_log = os.path.join(self.log_dir, "postfix.log")
        self.dovecot_log = os.path.join(self.log_dir, "dovecot.log")
        self.master_out = os.path.join(self.log_dir, "postfix-master.out")
        self.dovecot_out = os.path.join(self.log_dir, "dovecot.out")
        self.maildir = os.path.join(w, "maildir")

        self._master = None
        self._dovecot = None
        self._watchdog = None
        self._watchdog_fd = None
        self._sessions = set()
        self._started = False
        self._atexit_registered = False
        self.startup_seconds = None

    # ------------------------------------------------------------------ API

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return "<TestMTA %s ports=%r>" % (self.workdir, self.ports)

    def start(self):
        """Generate certs/config, start Dovecot and Postfix, wait until ready."""
        if self._started:
            raise MTAError("TestMTA already started")
        if os.geteuid() != 0:
            raise MTAStartError("TestMTA must run as root (Postfix master and Dovecot need it)")
        t0 = time.monotonic()
        deadline = t0 + self.START_TIMEOUT
        self._started = True
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._check_prerequisites()
            self._start_watchdog()
            self._make_dirs()
            self._make_certs()
            self._write_dovecot_config()
            self._start_dovecot(deadline)
            for attempt in range(3):
                self.ports = self._pick_ports()
                self._write_postfix_config()
                if self._start_postfix(deadline):
                    break
                # port stolen between picking and binding: try other ports
                self._stop_postfix()
            else:
                raise MTAStartError("Postfix could not bind its ports (3 attempts)")
            self._check_ready(deadline)
        except BaseException as e:
            tail = self.log_tail(40)
            self.stop()
            if isinstance(e, MTAStartError):
                raise MTAStartError("%s\n--- log tail ---\n%s" % (e, tail)) from None
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            raise MTAStartError("TestMTA start failed: %r\n--- log tail ---\n%s" % (e, tail)) from e
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self):
        """Stop Postfix and Dovecot and everything they spawned.  Idempotent."""
        procs = [p for p in (self._master, self._dovecot) if p is not None]
        self._master = self._dovecot = None
        try:
            for p in procs:
                self._signal_group(p, signal.SIGTERM)
            for p in procs:
                self._reap(p, grace=5.0)
        finally:
            try:
                self._kill_sessions(self._sessions, grace=3.0)
            finally:
                self._sessions.clear()
                self._stop_watchdog()
                self._started = False
                if self._atexit_registered:
                    try:
                        atexit.unregister(self.stop)
                    except Exception:
                        pass
                    self._atexit_registered = False

    @property
    def running(self):
        return (self._master is not None and self._master.poll() is None and
                self._dovecot is not None and self._dovecot.poll() is None)

    def mailbox_dir(self, localpart):
        """Maildir directory for localpart ('alice', 'alice@example.test', 'alice+x')."""
        name = self._mailbox_name(localpart)
        return os.path.join(self.maildir, name)

    def messages(self, localpart):
        """Raw bytes of every delivered file in the Maildir, oldest first."""
        d = self.mailbox_dir(localpart)
        files = []
        for sub in ("new", "cur"):
            p = os.path.join(d, sub)
            try:
                names = os.listdir(p)
            except FileNotFoundError:
                continue
            for n in names:
                fp = os.path.join(p, n)
                try:
                    st = os.stat(fp)
                except FileNotFoundError:
                    continue
                files.append((self._delivery_key(n, st), fp))
        files.sort()
        out = []
        for _, fp in files:
            try:
                with open(fp, "rb") as f:
                    out.append(f.read())
            except FileNotFoundError:  # clear() raced with us
                pass
        return out

    def wait_for_messages(self, localpart, count, timeout=20):
        """Poll until at least `count` messages are in the Maildir; return them all."""
        self._mailbox_name(localpart)  # validate early
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            msgs = self.messages(localpart)
            if len(msgs) >= count:
                return msgs
            if time.monotonic() >= deadline:
                raise MTATimeout(
                    "timed out after %.1fs waiting for %d message(s) in %r, have %d\n"
                    "--- log tail ---\n%s" % (timeout, count, localpart, len(msgs), self.log_tail(40)))
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def queue_count(self):
        """Number of messages Postfix has not finished with (incoming+active+deferred)."""
        n = 0
        for q in ("incoming", "active", "deferred", "hold"):
            for _root, _dirs, files in os.walk(os.path.join(self.queue_dir, q)):
                n += len(files)
        return n

    def wait_queue_empty(self, timeout=20):
        """Wait until Postfix has delivered (or bounced) everything it accepted."""
        deadline = time.monotonic() + timeout
        while self.queue_count():
            if time.monotonic() >= deadline:
                raise MTATimeout("Postfix queue not empty after %.1fs (%d left)\n--- log tail ---\n%s"
                                 % (timeout, self.queue_count(), self.log_tail(40)))
            time.sleep(0.02)

    def clear(self):
        """Delete all delivered messages from all Maildirs (directories stay)."""
        for name in list(self.MAILBOXES) + [self.RELAYED]:
            for sub in ("new", "cur", "tmp"):
                p = os.path.join(self.maildir, name, sub)
                try:
                    names = os.listdir(p)
                except FileNotFoundError:
                    continue
                for n in names:
                    try:
                        os.unlink(os.path.join(p, n))
                    except FileNotFoundError:
                        pass

    def log_tail(self, n=50):
        """Last n lines of each of the Postfix and Dovecot logs, as one string."""
        parts = []
        for path in (self.postfix_log, self.master_out, self.dovecot_log, self.dovecot_out):
            lines = self._tail_file(path, n)
            if lines is None or (not lines and path in (self.master_out, self.dovecot_out)):
                continue
            parts.append("==> %s <==\n%s" % (path, "".join(lines)))
        return "\n".join(parts) if parts else "(no logs yet)"

    def info(self):
        """JSON-serialisable description (what the CLI prints)."""
        return {
            "host": self.host,
            "ports": dict(self.ports),
            "ca_file": self.ca_file,
            "server_cert": self.server_cert,
            "wrong_cert": self.wrong_cert,
            "users": dict(self.users),
            "domain": self.domain,
            "mailboxes": list(self.mailboxes),
            "relayed_mailbox": self.RELAYED,
            "maildir": self.maildir,
            "workdir": self.workdir,
            "logs": [self.postfix_log, self.dovecot_log],
            "message_size_limit": self.message_size_limit,
        }

    @staticmethod
    def strip_trace(raw):
        """Undo what Postfix did on delivery; return the message as the client sent it.

        Removes the leading trace headers the delivery added -- at most one each
        of Return-Path, X-Original-To and Delivered-To, then the first Received
        header (with its continuation lines), stopping there -- and converts LF
        to CRLF.  Headers the client itself sent (including its own Received
        headers below Postfix's) are kept.  See the module docstring for the
        (few) other changes Postfix makes, which this does not undo.
        """
        raw = bytes(raw)
        lines = raw.split(b"\n")
        # lines[-1] is b"" when raw ends in \n
        i = 0
        seen = set()

        def skip_header(i):
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            return i

        while i < len(lines):
            line = lines[i]
            colon = line.find(b":")
            name = line[:colon].lower() if colon > 0 else None
            if name in (b"return-path", b"delivered-to", b"x-original-to") and name not in seen:
                seen.add(name)
                i = skip_header(i)
                continue
            if name == b"received":
                i = skip_header(i)
            break
        return b"\n".join(lines[i:]).replace(b"\n", b"\r\n")

    # ------------------------------------------------------------ internals

    @staticmethod
    def _delivery_key(name, st):
        # Postfix virtual(8) Maildir names: <sec>.V<dev>I<ino>M<usec>.<host>
        try:
            sec, mid = name.split(".", 2)[:2]
            usec = int(mid[mid.rindex("M") + 1:])
            return (int(sec) * 1000000 + usec, st.st_mtime_ns, name)
        except (ValueError, IndexError):
            return (st.st_mtime_ns // 1000, st.st_mtime_ns, name)

    def _mailbox_name(self, localpart):
        name = str(localpart)
        if "@" in name:
            name, _, dom = name.rpartition("@")
            if dom.lower() != self.DOMAIN and name != self.RELAYED:
                raise ValueError("%r is not in the local domain %s" % (localpart, self.DOMAIN))
        if name != self.RELAYED:
            name = name.split("+", 1)[0].lower()
        if name not in self.MAILBOXES and name != self.RELAYED:
            raise ValueError("unknown mailbox %r (have %s and %s)"
                             % (localpart, ", ".join(self.MAILBOXES), self.RELAYED))
        return name

    @staticmethod
    def _tail_file(path, n):
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 200 * max(n, 1)))
                data = f.read()
        except OSError:
            return None
        lines = data.decode("utf-8", "replace").splitlines(True)
        return lines[-n:] if n > 0 else []

    def _check_prerequisites(self):
        for p in (os.path.join(POSTFIX_DAEMON_DIR, "master"), os.path.join(POSTFIX_DAEMON_DIR, "smtpd"),
                  os.path.join(POSTFIX_DAEMON_DIR, "virtual"), DOVECOT_BIN):
            if not os.access(p, os.X_OK):
                raise MTAStartError("%s not found: install the Debian packages postfix and dovecot-core" % p)
        if shutil.which(OPENSSL_BIN) is None:
            raise MTAStartError("openssl command not found (Debian package: openssl)")
        for s in (self.auth_socket, os.path.join(self.dovecot_base_dir, "token-login", "tokenlogin")):
            if len(s.encode()) > _SUN_PATH_MAX:
                raise MTAStartError(
                    "workdir path too long for unix sockets (%d > %d bytes): %s; use a shorter workdir"
                    % (len(s.encode()), _SUN_PATH_MAX, s))

    def _make_dirs(self):
        postfix_uid, postfix_gid = _uid("postfix", None), _gid("postfix", None)
        if postfix_uid is None:
            raise MTAStartError("system user 'postfix' missing (Debian package postfix not installed?)")
        postdrop_gid = _gid("postdrop", postfix_gid)
        self._vmail_uid, self._vmail_gid = _uid("nobody", 65534), _gid("nogroup", 65534)
        os.makedirs(self.workdir, exist_ok=True)
        for d in (self.tls_dir, self.postfix_dir, self.postfix_conf_dir, self.dovecot_dir, self.log_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # Postfix queue: root-owned top, postfix-owned subdirectories.
        os.makedirs(self.queue_dir, exist_ok=True)
        os.chmod(self.queue_dir, 0o755)
        os.chown(self.queue_dir, 0, 0)
        for sub, owner, group, mode in (
                ("pid", 0, 0, 0o755),
                ("private", postfix_uid, 0, 0o700),
                ("public", postfix_uid, postdrop_gid, 0o710),
                ("maildrop", postfix_uid, postdrop_gid, 0o730),
                ("incoming", postfix_uid, 0, 0o700), ("active", postfix_uid, 0, 0o700),
                ("deferred", postfix_uid, 0, 0o700), ("defer", postfix_uid, 0, 0o700),
                ("bounce", postfix_uid, 0, 0o700), ("trace", postfix_uid, 0, 0o700),
                ("corrupt", postfix_uid, 0, 0o700), ("hold", postfix_uid, 0, 0o700),
                ("flush", postfix_uid, 0, 0o700), ("saved", postfix_uid, 0, 0o700)):
            p = os.path.join(self.queue_dir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, owner, group)
            os.chmod(p, mode)
        os.makedirs(self.data_dir, exist_ok=True)
        os.chown(self.data_dir, postfix_uid, postfix_gid)
        os.chmod(self.data_dir, 0o700)
        # Maildirs, owned by the delivery uid (nobody:nogroup).
        os.makedirs(self.vmail_dir, exist_ok=True)
        os.chown(self.vmail_dir, self._vmail_uid, self._vmail_gid)
        os.chmod(self.vmail_dir, 0o755)
        for name in list(self.MAILBOXES) + [self.RELAYED]:
            for sub in ("", "new", "cur", "tmp"):
                p = os.path.join(self.vmail_dir, name, sub)
                os.makedirs(p, exist_ok=True)
                os.chown(p, self._vmail_uid, self._vmail_gid)
                os.chmod(p, 0o700)
        # workdir/maildir -> postfix/vmail (see _write_postfix_config for why)
        if os.path.islink(self.maildir) or not os.path.exists(self.maildir):
            if os.path.islink(self.maildir):
                os.unlink(self.maildir)
            os.symlink(os.path.relpath(self.vmail_dir, self.workdir), self.maildir)
        elif os.path.realpath(self.maildir) != os.path.realpath(self.vmail_dir):
            raise MTAStartError("%s exists and is not ours; use a fresh workdir" % self.maildir)
        # Dovecot
        for d in (self.dovecot_state_dir,):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o750)
        # stale sockets / pid files from an earlier run in the same workdir
        for p in (self.auth_socket, os.path.join(self.queue_dir, "pid", "master.pid")):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def _openssl(self, *args, **kw):
        env = dict(os.environ, OPENSSL_CONF=self._openssl_cnf)
        r = subprocess.run((OPENSSL_BIN,) + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, cwd=self.tls_dir, timeout=30)
        if r.returncode != 0:
            raise MTAStartError("openssl %s failed:\n%s" % (" ".join(args), r.stdout.decode(errors="replace")))

    def _make_certs(self):
        self._openssl_cnf = os.path.join(self.tls_dir, "openssl.cnf")
        with open(self._openssl_cnf, "w") as f:
            f.write(
                "[ req ]\n"
                "distinguished_name = dn\n"
                "prompt = no\n"
                "[ dn ]\n"
                "CN = placeholder\n"
                "[ ca_ext ]\n"
                "basicConstraints = critical, CA:TRUE\n"
                "keyUsage = critical, keyCertSign, cRLSign\n"
                "subjectKeyIdentifier = hash\n"
                "[ localhost_ext ]\n"
                "basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid:always\n"
                "[ wrong_ext ]\n"
                "basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = DNS:wrong.example\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid:always\n")
        tag = "%08x" % random.getrandbits(32)
        old_umask = os.umask(0o077)
        try:
            self._openssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
                          "-days", "3650", "-keyout", self.ca_key, "-out", self.ca_file,
                          "-subj", "/O=smtpcore tests/CN=smtpcore test CA %s" % tag,
                          "-config", self._openssl_cnf, "-extensions", "ca_ext")
            for cert, key, cn, ext in ((self.server_cert, self.server_key, "localhost", "localhost_ext"),
                                       (self.wrong_cert, self.wrong_key, "wrong.example", "wrong_ext")):
                csr = key + ".csr"
                self._openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
                              "-keyout", key, "-out", csr, "-subj", "/O=smtpcore tests/CN=%s" % cn,
                              "-config", self._openssl_cnf)
                self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", self.ca_key,
                              "-set_serial", "0x%x" % random.getrandbits(63), "-days", "825", "-sha256",
                              "-extfile", self._openssl_cnf, "-extensions", ext, "-out", cert)
                os.unlink(csr)
        finally:
            os.umask(old_umask)
        for p in (self.ca_file, self.server_cert, self.wrong_cert):
            os.chmod(p, 0o644)

    # ---- Dovecot

    def _write_dovecot_config(self):
        with open(self.dovecot_users_file, "w") as f:
            for user, pw in self.users.items():
                if ":" in pw or "\n" in pw:
                    raise MTAStartError("passwords must not contain ':' or newlines")
                f.write("%s:{PLAIN}%s::::::\n" % (user, pw))
        os.chmod(self.dovecot_users_file, 0o600)
        tag = hashlib.sha1(self.workdir.encode()).hexdigest()[:10]
        conf = """\
# Generated by tests/servers/mta.py -- Dovecot as SASL server for Postfix only.
base_dir = {base}
state_dir = {state}
instance_name = smtpcore-mta-{tag}
protocols =
ssl = no
shutdown_clients = yes
log_path = {log}
info_log_path = {log}
debug_log_path = {log}
log_timestamp = "%Y-%m-%d %H:%M:%S "
default_internal_user = dovecot
default_login_user = dovenull
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
auth_username_format = %Lu
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home=/nonexistent
}}
# No per-IP "auth penalty" delays after failed logins (all tests come from
# 127.0.0.1; negative AUTH tests would slow everything down by up to 15 s).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  # root so that the passwd-file is readable even if an ancestor of the
  # workdir is not searchable by the dovecot user (pytest tmp dirs are 0700).
  user = root
  unix_listener {sock} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
""".format(base=self.dovecot_base_dir, state=self.dovecot_state_dir, tag=tag, log=self.dovecot_log,
           users=self.dovecot_users_file, uid=self._vmail_uid, gid=self._vmail_gid, sock=self.auth_socket)
        with open(self.dovecot_conf, "w") as f:
            f.write(conf)

    def _spawn(self, argv, outfile):
        out = open(outfile, "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 cwd="/", start_new_session=True, close_fds=True)
        finally:
            out.close()
        self._sessions.add(p.pid)  # session id == pid of the session leader
        self._watchdog_send(b"+%d\n" % p.pid)
        return p

    def _start_watchdog(self):
        if self._watchdog is not None:
            return
        r, w = os.pipe()  # both non-inheritable; r is passed explicitly
        try:
            self._watchdog = subprocess.Popen([sys.executable or "/usr/bin/python3", "-c", _WATCHDOG, str(r)],
                                              pass_fds=(r,), stdin=subprocess.DEVNULL, cwd="/",
                                              start_new_session=True)
        except BaseException:
            os.close(w)
            raise
        finally:
            os.close(r)
        self._watchdog_fd = w

    def _watchdog_send(self, data):
        if self._watchdog_fd is not None:
            try:
                os.write(self._watchdog_fd, data)
            except OSError:
                pass

    def _stop_watchdog(self):
        wd, self._watchdog = self._watchdog, None
        if self._watchdog_fd is not None:
            self._watchdog_send(b"exit\n")
            os.close(self._watchdog_fd)
            self._watchdog_fd = None
        if wd is not None:
            try:
                wd.wait(5)
            except subprocess.TimeoutExpired:
                wd.kill()
                wd.wait()

    def _start_dovecot(self, deadline):
        self._dovecot = self._spawn([DOVECOT_BIN, "-F", "-c", self.dovecot_conf], self.dovecot_out)
        # The listener exists as soon as dovecot master is up; then check the
        # auth service answers and offers every mechanism we promise.
        last = None
        while True:
            if self._dovecot.poll() is not None:
                raise MTAStartError("dovecot exited with status %s during start-up" % self._dovecot.returncode)
            if os.path.exists(self.auth_socket):
                try:
                    mechs = self._dovecot_mechanisms(timeout=max(0.5, deadline - time.monotonic()))
                    missing = [m for m in self.SASL_MECHANISMS if m not in mechs]
                    if missing:
                        raise MTAStartError("dovecot does not offer %s (offers %s)" % (missing, mechs))
                    return
                except OSError as e:
                    last = e
            if time.monotonic() > deadline:
                raise MTAStartError("dovecot auth socket %s not ready in time (%r)" % (self.auth_socket, last))
            time.sleep(0.01)

    def _dovecot_mechanisms(self, timeout):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.auth_socket)
            s.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
            buf = b""
            while b"\nDONE\n" not in b"\n" + buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("dovecot auth closed the connection: %r" % buf)
                buf += chunk
        finally:
            s.close()
        return [line.split(b"\t")[1].decode() for line in buf.split(b"\n") if line.startswith(b"MECH\t")]

    # ---- Postfix

    def _pick_ports(self):
        socks = []
        try:
            for _ in self.PORT_NAMES:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((self.HOST, 0))
                socks.append(s)
            return {name: s.getsockname()[1] for name, s in zip(self.PORT_NAMES, socks)}
        finally:
            for s in socks:
                s.close()

    def _write_postfix_config(self):
        boxes = ", ".join("%s@%s=%s/" % (b, self.DOMAIN, b) for b in self.MAILBOXES)
        main_cf = """\
# Generated by tests/servers/mta.py -- private Postfix for integration tests.
compatibility_level = 3.6
config_directory = {conf}
meta_directory = {conf}
queue_directory = {queue}
# Postfix daemons (and master, when it opens its data_directory lock as the
# mail_owner) run with queue_directory as their working directory.  Paths
# that unprivileged processes open are therefore given relative to it via
# /proc/self/cwd, which works even when an ancestor of the workdir is not
# searchable by postfix/nobody (e.g. pytest's 0700 /tmp/pytest-of-root).
data_directory = /proc/self/cwd/../data
mail_owner = postfix
setgid_group = {setgid_group}

# Logging without syslog
maillog_file = {log}
maillog_file_prefixes = {logdir}

myhostname = localhost
mydomain = localdomain
myorigin = $myhostname
mydestination =
mynetworks =
inet_interfaces = {host}
inet_protocols = ipv4
smtpd_banner = $myhostname ESMTP smtpcore test MTA
biff = no
append_dot_mydomain = no
readme_directory = no

# Never deliver off this machine: no smtp client, no DNS, no relayhost.
# Mail for non-local domains goes into the catch-all Maildir {relayed}.
relayhost =
default_transport = outbound
relay_transport = outbound
local_transport = error:5.1.1 local(8) delivery is disabled in the smtpcore test MTA
fallback_transport =
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no

# Local virtual domain, Maildir delivery by virtual(8) as nobody:nogroup
virtual_mailbox_domains = {domain}
virtual_mailbox_maps = inline:{{ {boxes} }}
virtual_alias_maps =
alias_maps =
alias_database =
virtual_mailbox_base = /proc/self/cwd/../vmail
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 100
virtual_mailbox_limit = 0
recipient_delimiter = +

# Do not add or rewrite headers (see mta.py docstring)
local_header_rewrite_clients =
remote_header_rewrite_domain =
always_add_missing_headers = no
message_drop_headers =
smtpd_tls_received_header = no
smtpd_sasl_authenticated_header = no

# Limits
message_size_limit = {size}
smtpd_recipient_limit = {rcpt}
smtpd_recipient_overshoot_limit = {rcpt}
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
smtpd_client_event_limit_exceptions = 127.0.0.0/8
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 4s
initial_destination_concurrency = 10
default_destination_concurrency_limit = 20

# TLS (per-service overrides in master.cf)
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =

# SASL via Dovecot (socket private/auth, relative to queue_directory)
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous

# Who may use which sender address after AUTH (submission-like services)
smtpd_sender_login_maps = inline:{{ {logins} }}

# Default (mx) policy; submission-like services override in master.cf
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_reject_unlisted_recipient = yes
""".format(conf=self.postfix_conf_dir, queue=self.queue_dir, log=self.postfix_log,
           logdir=self.log_dir, host=self.HOST, domain=self.DOMAIN, boxes=boxes,
           uid=self._vmail_uid, gid=self._vmail_gid, size=self.message_size_limit,
           rcpt=self.RECIPIENT_LIMIT, cert=self.server_cert, key=self.server_key,
           relayed=self.RELAYED, logins=", ".join("%s=%s" % (u, u) for u in sorted(self.USERS)),
           setgid_group="postdrop" if _gid("postdrop", None) is not None else "postfix")

        auth_opts = [
            "smtpd_sasl_auth_enable=yes",
            "smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination",
            "smtpd_recipient_restrictions=permit_sasl_authenticated,reject",
            "smtpd_sender_restrictions=reject_authenticated_sender_login_mismatch",
        ]
        services = {
            "submission": ["smtpd_tls_security_level=may", "smtpd_tls_auth_only=yes"] + auth_opts,
            "smtps": ["smtpd_tls_wrappermode=yes", "smtpd_tls_security_level=encrypt"] + auth_opts,
            "plain": ["smtpd_tls_security_level=none", "smtpd_tls_auth_only=no"] + auth_opts,
            "wrongcert": ["smtpd_tls_security_level=may", "smtpd_tls_auth_only=yes",
                          "smtpd_tls_cert_file=" + self.wrong_cert,
                          "smtpd_tls_key_file=" + self.wrong_key] + auth_opts,
            "nochunk": ["smtpd_tls_security_level=may", "smtpd_tls_auth_only=yes",
                        "smtpd_discard_ehlo_keywords=chunking,pipelining"] + auth_opts,
            "mx": ["smtpd_tls_security_level=may", "smtpd_sasl_auth_enable=no"],
        }
        lines = [
            "# Generated by tests/servers/mta.py",
            "# service type  private unpriv  chroot  wakeup  maxproc command + args",
        ]
        for name in self.PORT_NAMES:
            lines.append("%s:%d inet n - n - - smtpd" % (self.HOST, self.ports[name]))
            lines.append("  -o syslog_name=postfix/%s" % name)
            for o in services[name]:
                lines.append("  -o %s" % o)
        lines += [
            "postlog   unix-dgram n  -       n       -       1       postlogd",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "verify    unix  -       -       n       -       1       verify",
            "flush     unix  n       -       n       1000?   0       flush",
            "proxymap  unix  -       -       n       -       -       proxymap",
            "proxywrite unix -       -       n       -       1       proxymap",
            "showq     unix  n       -       n       -       -       showq",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "anvil     unix  -       -       n       -       1       anvil",
            "scache    unix  -       -       n       -       1       scache",
            "virtual   unix  -       n       n       -       -       virtual",
            "outbound  unix  -       n       n       -       -       virtual",
            "  -o virtual_mailbox_maps=static:%s/" % self.RELAYED,
        ]
        past = time.time() - 60
        for fname, text in (("main.cf", main_cf), ("master.cf", "\n".join(lines) + "\n")):
            path = os.path.join(self.postfix_conf_dir, fname)
            with open(path, "w") as f:
                f.write(text)
            # Postfix's dict_load_file() re-reads a file whose mtime is not at
            # least a second old, sleeping 300 ms each time (~2 s start-up).
            os.utime(path, (past, past))

    def _start_postfix(self, deadline):
        """Start master; True when it is up, False if a port was taken (retry)."""
        log_pos = self._file_size(self.postfix_log)
        self._master = self._spawn([os.path.join(POSTFIX_DAEMON_DIR, "master"), "-d",
                                    "-c", self.postfix_conf_dir], self.master_out)
        pending = list(self.PORT_NAMES)
        while pending:
            if self._master.poll() is not None:
                # master logs its own start-up errors (e.g. a failed bind())
                # only to syslog, which we do not have: diagnose ourselves.
                if self._busy_ports():
                    return False
                raise MTAStartError("postfix master exited with status %s during start-up%s"
                                    % (self._master.returncode, self._postconf_diagnostics()))
            fatal = self._find_fatal(self._read_from(self.postfix_log, log_pos))
            if fatal:
                raise MTAStartError("postfix reported: %s" % fatal)
            name = pending[0]
            try:
                self._probe_port(name, timeout=max(0.2, min(2.0, deadline - time.monotonic())))
                pending.pop(0)
                continue
            except (OSError, ssl.SSLError, ValueError) as e:
                last = e
            if time.monotonic() > deadline:
                raise MTAStartError("postfix port %s (%s) not ready in time: %r"
                                    % (name, self.ports[name], last))
            time.sleep(0.01)
        return True

    def _busy_ports(self):
        """Names of our ports that some other process has bound meanwhile."""
        busy = []
        for name, port in self.ports.items():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as master does
            try:
                s.bind((self.HOST, port))
            except OSError:
                busy.append(name)
            finally:
                s.close()
        return busy

    def _postconf_diagnostics(self):
        try:
            r = subprocess.run(["postconf", "-c", self.postfix_conf_dir, "-n"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
        except (OSError, subprocess.SubprocessError) as e:
            return " (postconf failed: %r)" % e
        err = r.stderr.decode(errors="replace").strip()
        return ("\npostconf -n says:\n" + err) if err else " (postconf -n finds no problem in main.cf)"

    def _probe_port(self, name, timeout):
        """Connect, (for smtps: verified TLS handshake), read the 220 banner, QUIT."""
        s = socket.create_connection((self.HOST, self.ports[name]), timeout=timeout)
        try:
            if name == "smtps":
                ctx = ssl.create_default_context(cafile=self.ca_file)
                s = ctx.wrap_socket(s, server_hostname="localhost")
            f = s.makefile("rb")
            banner = f.readline()
            if not banner.startswith(b"220"):
                raise ValueError("bad banner on %s: %r" % (name, banner))
            s.sendall(b"QUIT\r\n")
            f.readline()
        finally:
            s.close()

    def _check_ready(self, deadline):
        # qmgr must be running or mail would sit in incoming/ until it starts.
        qmgr_sock = os.path.join(self.queue_dir, "public", "qmgr")
        while not os.path.exists(qmgr_sock):
            if time.monotonic() > deadline:
                raise MTAStartError("postfix qmgr socket did not appear")
            time.sleep(0.01)

    @staticmethod
    def _find_fatal(text):
        for line in text.splitlines():
            if " fatal: " in line or " panic: " in line:
                return line
        return None

    @staticmethod
    def _file_size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    @staticmethod
    def _read_from(path, pos):
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _stop_postfix(self):
        p, self._master = self._master, None
        if p is None:
            return
        self._signal_group(p, signal.SIGTERM)
        self._reap(p, grace=5.0)
        self._kill_sessions({p.pid}, grace=3.0)

    @staticmethod
    def _signal_group(p, sig):
        """Signal the process group led by p (we start each daemon in its own session)."""
        if p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass

    @classmethod
    def _reap(cls, p, grace):
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            cls._signal_group(p, signal.SIGKILL)
            p.wait(5)

    @staticmethod
    def _kill_sessions(sids, grace):
        """Make sure no process is left in any of the sessions we created."""
        if not sids:
            return
        sids = set(sids)
        me = os.getpid()

        def members():
            return [pid for pid, pgid, sid in _proc_sessions()
                    if (sid in sids or pgid in sids) and pid != me]

        deadline = time.monotonic() + grace
        sig = signal.SIGTERM
        while True:
            left = members()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            if time.monotonic() > deadline:
                if sig == signal.SIGKILL:
                    raise MTAError("processes %s would not die" % left)
                sig = signal.SIGKILL
                deadline = time.monotonic() + 3.0
            time.sleep(0.02)


# ---------------------------------------------------------------------- CLI

def _cli(argv=None):
    ap = argparse.ArgumentParser(description="Run the smtpcore test MTA (Postfix + Dovecot SASL) on 127.0.0.1")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve", help="start, print one JSON line, run until SIGTERM/SIGINT")
    sp.add_argument("--workdir", required=True)
    args = ap.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    mta = TestMTA(args.workdir)
    try:
        mta.start()
    except MTAError as e:
        print(str(e), file=sys.stderr)
        return 1
    try:
        info = mta.info()
        info["startup_seconds"] = round(mta.startup_seconds, 3)
        info["pid"] = os.getpid()
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            if not mta.running:
                print("test MTA died unexpectedly\n" + mta.log_tail(40), file=sys.stderr)
                return 1
    finally:
        mta.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
