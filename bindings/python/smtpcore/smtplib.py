"""A drop-in for the standard library's smtplib, over smtpcore's C core.

Change only the import::

    from smtpcore import smtplib          # instead of: import smtplib

    server = smtplib.SMTP("smtp.example.com", 587)
    server.starttls()
    server.login(user, password)
    server.sendmail(from_addr, to_addrs, msg.as_string())
    server.quit()

``SMTP`` and ``SMTP_SSL`` have smtplib's methods and return values and raise smtplib's exception
classes (through subclasses that are also smtpcore's: ``SMTPAuthenticationError`` is both a
``smtplib.SMTPAuthenticationError`` and a ``smtpcore.AuthError``). What differs, on purpose:

* Certificates and host names are verified by default (smtplib does not verify unless given a
  verifying context). The trust store is the system's, or ``cafile=``/``capath=``; a context made
  by ``ssl.create_default_context(cafile=...)`` has its loaded CA certificates used; a context
  with ``verify_mode == CERT_NONE`` and ``check_hostname == False`` (for example
  ``ssl._create_unverified_context()``) turns verification off explicitly.
* AUTH is refused over an unencrypted connection unless ``allow_plaintext_auth=True``.
* smtpcore picks and runs the SASL mechanism (the strongest offered, or ``auth_mechanism=``);
  ``auth()`` with a custom authobject is not supported.
* ``quit()`` sends QUIT without waiting for the server's 221 and returns ``(221, b'Bye')``;
  ``close()`` sends QUIT too (best effort).
* ``helo()`` sends EHLO (the core falls back to HELO itself for servers that refuse EHLO).
* Low-level commands (``docmd``, ``putcmd``, ``getreply``, ``mail``, ``rcpt``, ``data``,
  ``verify``, ``expn``) raise SMTPNotSupportedError; MAIL/RCPT options other than SIZE, BODY,
  SMTPUTF8 and the DSN ones (RET, ENVID, NOTIFY, ORCPT) are refused rather than passed through.
* ``source_address`` is not supported (UsageError).
"""
from __future__ import annotations

import email.utils
import os
import re
import smtplib as _std
import socket
import ssl
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _core
from ._client import build_options
from ._errors import (AuthError, ConnectError, DNSError, LocalError, MessageTooLarge, ProtocolError,
                      RecipientsRefused, RelayDenied, SenderRefused, SMTPError, TimeoutError, TLSError,
                      UsageError, _set_fields, _with_hint)
from ._message import flatten_email_message

__all__ = [
    "SMTPException", "SMTPNotSupportedError", "SMTPServerDisconnected", "SMTPResponseException",
    "SMTPSenderRefused", "SMTPRecipientsRefused", "SMTPDataError", "SMTPConnectError", "SMTPHeloError",
    "SMTPAuthenticationError", "SMTPTLSError", "SMTPTimeoutError", "SMTPRelayDenied",
    "SMTPMessageTooLarge", "quoteaddr", "quotedata", "SMTP", "SMTP_SSL",
]

SMTP_PORT = _std.SMTP_PORT
SMTP_SSL_PORT = _std.SMTP_SSL_PORT
CRLF = _std.CRLF
bCRLF = _std.bCRLF
OLDSTYLE_AUTH = _std.OLDSTYLE_AUTH
quoteaddr = _std.quoteaddr
quotedata = _std.quotedata
SMTPException = _std.SMTPException


class _DropIn:
    """smtplib's str(e), then smtpcore's hint."""

    def __str__(self) -> str:
        return _with_hint(OSError.__str__(self), getattr(self, "hint", None))


class SMTPServerDisconnected(_DropIn, _std.SMTPServerDisconnected, ConnectError):
    """Not connected, or the server closed the connection."""


class SMTPConnectError(_DropIn, _std.SMTPConnectError, ConnectError):
    """The connection could not be made, or the server refused the session at its greeting."""


class SMTPDNSError(_DropIn, _std.SMTPConnectError, DNSError):
    """The host name did not resolve."""


class SMTPTimeoutError(_DropIn, _std.SMTPServerDisconnected, TimeoutError):
    """No connection or reply within the timeout (also a builtins.TimeoutError, like socket.timeout)."""


class SMTPTLSError(_DropIn, _std.SMTPException, ssl.SSLError, TLSError):
    """TLS failed (handshake, certificate, host name), or a password would have gone unencrypted."""


class SMTPAuthenticationError(_DropIn, _std.SMTPAuthenticationError, AuthError):
    """The server refused the user name/password (for example 535 5.7.8)."""


class SMTPNotSupportedError(_DropIn, _std.SMTPNotSupportedError, ProtocolError):
    """The server (or smtpcore) does not support the command or option."""


class SMTPAuthNotSupportedError(_DropIn, _std.SMTPNotSupportedError, AuthError):
    """No AUTH, or no mechanism in common."""


class SMTPSenderRefused(_DropIn, _std.SMTPSenderRefused, SenderRefused):
    """MAIL FROM was refused."""


class SMTPMessageTooLarge(_DropIn, _std.SMTPSenderRefused, MessageTooLarge):
    """The message is too large for the server (smtplib reports this as a refused sender)."""


class SMTPRecipientsRefused(_DropIn, _std.SMTPRecipientsRefused, RecipientsRefused):
    """Every recipient was refused; ``recipients`` maps each to (code, message)."""


class SMTPRelayDenied(SMTPRecipientsRefused, RelayDenied):
    """The server will not relay to these recipients."""


class SMTPDataError(_DropIn, _std.SMTPDataError, ProtocolError):
    """The server refused the message data."""


class SMTPHeloError(_DropIn, _std.SMTPHeloError, ProtocolError):
    """The server refused EHLO and HELO."""


class SMTPResponseException(_DropIn, _std.SMTPResponseException, ProtocolError):
    """The server answered a command with an error."""


class SMTPLocalError(_DropIn, _std.SMTPException, LocalError):
    """A local failure (a message source that could not be read, memory)."""


def _copy_fields(new: BaseException, e: SMTPError) -> BaseException:
    _set_fields(new, e.message, e.category, e.code, e.enhanced_code, e.server_message,
                getattr(e, "server_bytes", None), e.hint, e.transcript, getattr(e, "result", None))
    for extra in ("size", "max_size"):
        if hasattr(e, extra):
            setattr(new, extra, getattr(e, extra))
    return new


def _refused_dict(e: SMTPError, originals: Dict[str, str]) -> Dict[str, Tuple[int, bytes]]:
    out: Dict[str, Tuple[int, bytes]] = {}
    result = getattr(e, "result", None)
    for r in (result or ()):
        if not r.accepted:
            out[originals.get(r.address, r.address)] = (r.code, (r.message or "").encode("utf-8", "replace"))
    return out


def _convert(e: SMTPError, step: str, sender: str = "", originals: Optional[Dict[str, str]] = None) -> BaseException:
    """smtpcore's exception as the smtplib one that the same failure raises there."""
    cat = e.category
    code = e.code
    msg = getattr(e, "server_bytes", None) or e.message.encode("utf-8", "replace")
    text = e.message
    new: BaseException
    if cat == "usage":
        return e
    if cat == "dns":
        new = SMTPDNSError(code or -1, msg)
    elif cat == "connect":
        if step == "connect":
            new = SMTPConnectError(code or -1, msg)
        else:
            new = SMTPServerDisconnected(text)
    elif cat == "timeout":
        new = SMTPTimeoutError(text)
    elif cat == "tls":
        new = SMTPTLSError(text)
    elif cat == "auth":
        new = SMTPAuthenticationError(code, msg) if code else SMTPAuthNotSupportedError(text)
    elif cat == "sender":
        new = SMTPSenderRefused(code, msg, sender)
    elif cat == "size":
        new = SMTPMessageTooLarge(code, msg, sender)
    elif cat in ("recipient", "relay"):
        refused = _refused_dict(e, originals or {})
        new = (SMTPRelayDenied if cat == "relay" else SMTPRecipientsRefused)(refused)
    elif cat == "protocol":
        if not code:
            new = SMTPServerDisconnected(text)
        elif step == "sendmail":
            new = SMTPDataError(code, msg)
        elif step == "ehlo":
            new = SMTPHeloError(code, msg)
        else:
            new = SMTPResponseException(code, msg)
    else:
        new = SMTPLocalError(text)
    return _copy_fields(new, e)


def _fix_eols(data: str) -> str:
    return re.sub(r"(?:\r\n|\n|\r(?!\n))", CRLF, data)


def _bare(addr: str) -> str:
    """The address smtplib's quoteaddr would put between the angle brackets."""
    if not isinstance(addr, str):
        raise TypeError("addresses must be str, not %s" % type(addr).__name__)
    if any(c in addr for c in "\r\n\0"):
        # smtplib's parseaddr would quietly drop them; an address that contains
        # a line break is refused instead (bpo-43124).
        raise UsageError("an address must not contain CR, LF or NUL")
    if addr.strip() == "<>":
        return ""
    name, bare = email.utils.parseaddr(addr)
    if (name, bare) == ("", ""):
        return addr.strip()
    return bare


_NOTIFY = {"NEVER": _core.NOTIFY_NEVER, "SUCCESS": _core.NOTIFY_SUCCESS, "FAILURE": _core.NOTIFY_FAILURE,
           "DELAY": _core.NOTIFY_DELAY}


def _tls_options(context: Optional[ssl.SSLContext], cafile: Any, capath: Any, certfile: Any, keyfile: Any,
                 tempfiles: List[str]) -> Dict[str, Any]:
    """Verification settings for the core from an ssl.SSLContext and explicit files."""
    opts: Dict[str, Any] = {"tls_verify": True, "ca_file": cafile, "ca_dir": capath,
                            "client_cert": certfile, "client_key": keyfile}
    if context is None:
        return opts
    if not isinstance(context, ssl.SSLContext):
        raise TypeError("context must be an ssl.SSLContext")
    if context.verify_mode == ssl.CERT_NONE and not context.check_hostname:
        opts["tls_verify"] = False
        return opts
    if cafile is None and capath is None:
        # What the context was told to trust (cafile=, cadata=, load_verify_locations, or the
        # system file when it loaded the defaults); certificates in a capath directory are loaded
        # lazily by OpenSSL and cannot be seen here: pass capath= for those.
        ders = context.get_ca_certs(binary_form=True)
        if ders:
            fd, path = tempfile.mkstemp(prefix="smtpcore-ca-", suffix=".pem")
            tempfiles.append(path)
            with os.fdopen(fd, "w") as f:
                for der in ders:
                    f.write(ssl.DER_cert_to_PEM_cert(der))
            opts["ca_file"] = path
    return opts


class SMTP:
    """smtplib.SMTP over smtpcore. See the module documentation for what differs.

    Extra keyword arguments: ``cafile``, ``capath`` (trust anchors), ``allow_plaintext_auth``,
    ``auth_mechanism`` (``"PLAIN"``, ``"LOGIN"``, ``"CRAM-MD5"``, ``"SCRAM-SHA-256"``).
    """

    debuglevel = 0
    default_port = SMTP_PORT
    ehlo_msg = "ehlo"
    _security = "none"

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                 source_address: Optional[Tuple[str, int]] = None, *, cafile: Any = None, capath: Any = None,
                 allow_plaintext_auth: bool = False, auth_mechanism: Optional[str] = None) -> None:
        self._host = host
        self.timeout = timeout
        self.esmtp_features: Dict[str, str] = {}
        self.command_encoding = "ascii"
        self.source_address = source_address
        self.local_hostname = local_hostname
        self.helo_resp: Optional[bytes] = None
        self.ehlo_resp: Optional[bytes] = None
        self.does_esmtp = False
        self._session: Any = None
        self._tempfiles: List[str] = []
        self._cafile, self._capath = cafile, capath
        self._certfile: Any = getattr(self, "_certfile", None)
        self._keyfile: Any = getattr(self, "_keyfile", None)
        self._context: Optional[ssl.SSLContext] = getattr(self, "_context", None)
        self._allow_plaintext_auth = allow_plaintext_auth
        self._auth_mechanism = auth_mechanism
        self._options: Optional[Dict[str, Any]] = None
        self._tls_used: Optional[Dict[str, Any]] = None
        self._port = port
        self._after_tls: Optional[Tuple[int, bytes]] = None
        if source_address is not None:
            raise UsageError("source_address is not supported by smtpcore")
        if host:
            code, msg = self.connect(host, port)
            if code != 220:
                self.close()
                raise SMTPConnectError(code, msg)

    def __enter__(self) -> "SMTP":
        return self

    def __exit__(self, *args: Any) -> None:
        try:
            if self._session is not None:
                self.quit()
        finally:
            self.close()

    def __del__(self) -> None:
        try:
            self._remove_tempfiles()
        except Exception:
            pass

    # ---------------------------------------------------------------- plumbing

    @property
    def sock(self) -> Any:
        """The open session (smtplib has a socket here), or None."""
        return self._session

    def set_debuglevel(self, debuglevel: int) -> None:
        """1: print the protocol transcript (passwords redacted) to stderr after each command;
        2: with timestamps."""
        self.debuglevel = debuglevel

    def _print_debug(self, lines: Sequence[str]) -> None:
        if self.debuglevel <= 0:
            return
        for line in lines:
            if self.debuglevel > 1:
                print(time.strftime("%H:%M:%S"), line, file=sys.stderr)
            else:
                print(line, file=sys.stderr)

    def _flush(self) -> List[str]:
        lines: List[str] = self._session.take_transcript() if self._session is not None else []
        self._print_debug(lines)
        return lines

    def _require(self) -> Any:
        if self._session is None:
            raise SMTPServerDisconnected("please run connect() first")
        return self._session

    def _timeouts(self) -> Tuple[Optional[float], Optional[float]]:
        t = self.timeout
        if t is socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
            t = socket.getdefaulttimeout()
        if t is None:
            return 60.0, 30.0
        if not t:
            raise ValueError("Non-blocking socket (timeout=0) is not supported")
        return t, t

    def _tls(self, context: Optional[ssl.SSLContext]) -> Dict[str, Any]:
        return _tls_options(context, self._cafile, self._capath, self._certfile, self._keyfile, self._tempfiles)

    def _open(self, host: str, port: int, tls: Dict[str, Any]) -> Tuple[int, bytes]:
        timeout, connect_timeout = self._timeouts()
        options = build_options(host, port, security=self._security, timeout=timeout,
                                connect_timeout=connect_timeout, ca_file=tls["ca_file"], ca_dir=tls["ca_dir"],
                                client_cert=tls["client_cert"], client_key=tls["client_key"],
                                ehlo_name=self.local_hostname or None, verify=tls["tls_verify"],
                                allow_plaintext_auth=self._allow_plaintext_auth)
        try:
            self._session = _core.open_session(options, manual=True, keep_transcript=True)
        except SMTPError as e:
            self._print_debug(e.transcript or [])
            raise _convert(e, "connect") from None
        self._options = options
        self._tls_used = tls
        self._flush()
        return self._session.last_reply()

    def _fail(self, e: SMTPError, step: str, **kw: Any) -> BaseException:
        """Convert e; forget the session when the core has given it up."""
        self._flush()
        if self._session is not None and not self._session.is_open():
            self._drop()
        return _convert(e, step, **kw)

    def _drop(self) -> None:
        s, self._session = self._session, None
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False
        self._after_tls = None
        if s is not None:
            s.close()

    def _remove_tempfiles(self) -> None:
        while self._tempfiles:
            try:
                os.unlink(self._tempfiles.pop())
            except OSError:
                pass

    # ---------------------------------------------------------------- smtplib API

    def connect(self, host: str = "localhost", port: int = 0,
                source_address: Optional[Tuple[str, int]] = None) -> Tuple[int, bytes]:
        """Connect and read the greeting; returns (220, greeting)."""
        if source_address is not None:
            raise UsageError("source_address is not supported by smtpcore")
        if not port and (host.find(":") == host.rfind(":")):
            i = host.rfind(":")
            if i >= 0:
                host, port_text = host[:i], host[i + 1:]
                try:
                    port = int(port_text)
                except ValueError:
                    raise OSError("nonnumeric port") from None
        if not port:
            port = self.default_port
        sys.audit("smtplib.connect", self, host, port)
        if self._session is not None:
            self._drop()
        self._host = host
        self._port = port
        return self._open(host, port, self._tls(self._context))

    def helo(self, name: str = "") -> Tuple[int, bytes]:
        """Greets the server. smtpcore sends EHLO (and HELO itself if EHLO is refused)."""
        code, msg = self._ehlo(name)
        self.helo_resp = msg
        return code, msg

    def ehlo(self, name: str = "") -> Tuple[int, bytes]:
        """EHLO; returns (code, text) and fills ehlo_resp, esmtp_features and does_esmtp."""
        self.esmtp_features = {}
        code, msg = self._ehlo(name)
        self.ehlo_resp = msg
        if code == 250:
            self.does_esmtp = True
            self._parse_features(msg)
        return code, msg

    def _ehlo(self, name: str) -> Tuple[int, bytes]:
        s = self._require()
        self._after_tls = None
        try:
            code, msg = s.ehlo(name or self.local_hostname or None)
        except SMTPError as e:
            if e.code and e.category != "connect":
                self._flush()
                return e.code, getattr(e, "server_bytes", None) or b""
            raise self._fail(e, "ehlo") from None
        self._flush()
        return code, msg

    def _parse_features(self, msg: bytes) -> None:
        # As smtplib does it: lower-case keywords, AUTH lines (also old-style AUTH=) collected.
        resp = msg.decode("latin-1").split("\n")
        del resp[0]
        for each in resp:
            auth_match = OLDSTYLE_AUTH.match(each)
            if auth_match:
                self.esmtp_features["auth"] = self.esmtp_features.get("auth", "") + " " + str(auth_match.groups(0)[0])
                continue
            m = re.match(r"(?P<feature>[A-Za-z0-9][A-Za-z0-9\-]*) ?", each)
            if m:
                feature = m.group("feature").lower()
                params = m.string[m.end("feature"):].strip()
                if feature == "auth":
                    self.esmtp_features[feature] = self.esmtp_features.get(feature, "") + " " + params
                else:
                    self.esmtp_features[feature] = params

    def has_extn(self, opt: str) -> bool:
        return opt.lower() in self.esmtp_features

    def ehlo_or_helo_if_needed(self) -> None:
        if self.helo_resp is None and self.ehlo_resp is None:
            if self._after_tls is not None:
                # The core already sent EHLO after STARTTLS: use that reply.
                code, msg = self._after_tls
                self._after_tls = None
                self.ehlo_resp = msg
                self.does_esmtp = True
                self._parse_features(msg)
                return
            if not (200 <= self.ehlo()[0] <= 299):
                code, resp = self.helo()
                if not (200 <= code <= 299):
                    raise SMTPHeloError(code, resp)

    def starttls(self, keyfile: Any = None, certfile: Any = None,
                 context: Optional[ssl.SSLContext] = None) -> Tuple[int, bytes]:
        """STARTTLS, with certificate and host-name verification (see the module documentation for
        how ``context`` is honoured). Returns (220, reply); a server refusing STARTTLS gives its
        reply, as smtplib does. The core sends EHLO again over TLS; its reply is used by the next
        command that needs one."""
        if isinstance(keyfile, ssl.SSLContext) and context is None:  # starttls(ctx), as in 3.12
            context, keyfile = keyfile, None
        if context is not None and (keyfile is not None or certfile is not None):
            raise ValueError("context and keyfile/certfile arguments are mutually exclusive")
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("starttls"):
            raise SMTPNotSupportedError("STARTTLS extension not supported by server.")
        if keyfile is not None or certfile is not None:
            self._keyfile, self._certfile = keyfile, certfile
        tls = self._tls(context)
        if tls != self._tls_used:
            self._reopen_with(tls)
        s = self._require()
        try:
            code, msg = s.starttls()
        except SMTPError as e:
            if e.category == "tls" and e.code:  # the server said no: smtplib returns its reply
                self._flush()
                return e.code, getattr(e, "server_bytes", None) or b""
            raise self._fail(e, "starttls") from None
        lines = self._flush()
        reply = b"Ready to start TLS"
        for i, line in enumerate(lines):
            if line == "C: STARTTLS":
                for later in lines[i + 1:]:
                    if later.startswith("S: 220"):
                        reply = later[7:].encode("utf-8", "replace")
                        break
                break
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False
        self._after_tls = (code, msg)
        return 220, reply

    def _reopen_with(self, tls: Dict[str, Any]) -> None:
        """The TLS settings come with the connection in the core: to honour a context given only now,
        reconnect with them and repeat the greeting and EHLO (nothing else has happened yet)."""
        ehlo_done = self.ehlo_resp is not None
        self._drop()
        code, msg = self._open(self._host, self._port, tls)
        if code != 220:
            raise SMTPConnectError(code, msg)
        if ehlo_done:
            self.ehlo()
        else:
            self.helo()

    def login(self, user: str, password: str, *, initial_response_ok: bool = True) -> Tuple[int, bytes]:
        """AUTH with the strongest mechanism both sides support (or auth_mechanism=); returns
        (235, reply). Raises SMTPAuthenticationError when refused."""
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("auth"):
            raise SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
        s = self._require()
        try:
            code, msg = s.login(user, password, self._auth_mechanism)
        except SMTPError as e:
            raise self._fail(e, "login") from None
        self._flush()
        return code, msg

    def auth(self, mechanism: str, authobject: Any, *, initial_response_ok: bool = True) -> Tuple[int, bytes]:
        raise SMTPNotSupportedError("smtpcore runs the SASL exchange itself: use login() "
                                    "(and auth_mechanism= to choose the mechanism)")

    def sendmail(self, from_addr: str, to_addrs: Union[str, Sequence[str]], msg: Union[str, bytes],
                 mail_options: Sequence[str] = (), rcpt_options: Sequence[str] = ()) -> Dict[str, Tuple[int, bytes]]:
        """Send msg (str is encoded as ASCII with CRLF line ends, as smtplib does); returns a dict of
        the refused recipients {address: (code, message)}. Raises SMTPRecipientsRefused when all were
        refused, SMTPSenderRefused, SMTPDataError, SMTPServerDisconnected..."""
        self.ehlo_or_helo_if_needed()
        if isinstance(msg, str):
            msg = _fix_eols(msg).encode("ascii")
        if isinstance(to_addrs, str):
            to_addrs = [to_addrs]
        dsn_ret, envid = self._mail_options(mail_options)
        notify, orcpt = self._rcpt_options(rcpt_options)
        sender = _bare(from_addr)
        originals: Dict[str, str] = {}
        rcpts: List[Any] = []
        for a in to_addrs:
            bare = _bare(a)
            originals.setdefault(bare, a)
            rcpts.append((bare, notify, orcpt) if (notify or orcpt) else bare)
        if not rcpts:
            raise SMTPRecipientsRefused({})
        s = self._require()
        try:
            result = s.send(sender, rcpts, msg, dsn_ret=dsn_ret, envid=envid)
        except SMTPError as e:
            raise self._fail(e, "sendmail", sender=from_addr, originals=originals) from None
        self._flush()
        refused: Dict[str, Tuple[int, bytes]] = {}
        for address, accepted, code, _enh, text in result[3]:
            if not accepted:
                refused[originals.get(address, address)] = (code, (text or "").encode("utf-8", "replace"))
        return refused

    @staticmethod
    def _mail_options(options: Sequence[str]) -> Tuple[Optional[str], Optional[str]]:
        dsn_ret = envid = None
        for opt in options:
            key, _, value = opt.partition("=")
            k = key.upper()
            if k in ("SMTPUTF8", "SIZE", "BODY"):
                continue  # decided by smtpcore from the message and the server
            if k == "RET" and value.upper() in ("FULL", "HDRS"):
                dsn_ret = value.upper()
            elif k == "ENVID" and value:
                envid = value
            else:
                raise SMTPNotSupportedError("smtpcore does not pass the MAIL parameter %r" % opt)
        return dsn_ret, envid

    @staticmethod
    def _rcpt_options(options: Sequence[str]) -> Tuple[int, Optional[str]]:
        notify, orcpt = 0, None
        for opt in options:
            key, _, value = opt.partition("=")
            if key.upper() == "NOTIFY" and value:
                for word in value.upper().split(","):
                    if word not in _NOTIFY:
                        raise SMTPNotSupportedError("unknown NOTIFY value %r" % word)
                    notify |= _NOTIFY[word]
            elif key.upper() == "ORCPT" and value:
                kind, _, address = value.partition(";")
                orcpt = address if kind.lower() == "rfc822" and address else value
            else:
                raise SMTPNotSupportedError("smtpcore does not pass the RCPT parameter %r" % opt)
        return notify, orcpt

    def send_message(self, msg: Any, from_addr: Optional[str] = None,
                     to_addrs: Optional[Union[str, Sequence[str]]] = None, mail_options: Sequence[str] = (),
                     rcpt_options: Sequence[str] = ()) -> Dict[str, Tuple[int, bytes]]:
        """Send an email.message.Message as smtplib does: envelope from Resent-*/Sender/From and
        To/Cc/Bcc, Bcc and Resent-Bcc removed from the bytes, SMTPUTF8 when an address needs it."""
        self.ehlo_or_helo_if_needed()
        if isinstance(to_addrs, str):
            to_addrs = [to_addrs]
        data, sender, rcpts, international = flatten_email_message(msg, from_addr, to_addrs)
        if international and not self.has_extn("smtputf8"):
            raise SMTPNotSupportedError(
                "One or more source or delivery addresses require internationalized email support, but the "
                "server does not advertise the required SMTPUTF8 capability")
        return self.sendmail(sender, rcpts, data, mail_options, rcpt_options)

    def noop(self) -> Tuple[int, bytes]:
        return self._simple("noop")

    def rset(self) -> Tuple[int, bytes]:
        return self._simple("rset")

    def _simple(self, name: str) -> Tuple[int, bytes]:
        s = self._require()
        try:
            code, msg = getattr(s, name)()
        except SMTPError as e:
            if e.code and e.code != 421 and e.category != "connect":
                self._flush()
                return e.code, getattr(e, "server_bytes", None) or b""
            raise self._fail(e, name) from None
        self._flush()
        return code, msg

    def quit(self) -> Tuple[int, bytes]:
        """QUIT and close. smtpcore does not wait for the server's 221: the reply is (221, b'Bye')."""
        self._require()
        self.close()
        return 221, b"Bye"

    def close(self) -> None:
        """Close the connection (smtpcore sends QUIT first, best effort)."""
        if self._session is not None:
            self._flush()
            self._drop()
        self._remove_tempfiles()

    # Low-level smtplib commands that the core's step API does not offer.
    def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
        raise SMTPNotSupportedError("smtpcore does not offer raw SMTP commands; use sendmail()/send_message()")

    docmd = putcmd = getreply = send = mail = rcpt = data = verify = vrfy = expn = _unsupported


class SMTP_SSL(SMTP):
    """smtplib.SMTP_SSL over smtpcore: implicit TLS (port 465), certificates verified (see the module
    documentation for ``context``)."""

    default_port = SMTP_SSL_PORT
    _security = "tls"

    def __init__(self, host: str = "", port: int = 0, local_hostname: Optional[str] = None,
                 keyfile: Any = None, certfile: Any = None,
                 timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                 source_address: Optional[Tuple[str, int]] = None, context: Optional[ssl.SSLContext] = None,
                 **kwargs: Any) -> None:
        if context is not None and keyfile is not None:
            raise ValueError("context and keyfile arguments are mutually exclusive")
        if context is not None and certfile is not None:
            raise ValueError("context and certfile arguments are mutually exclusive")
        self.keyfile, self.certfile, self.context = keyfile, certfile, context
        self._keyfile, self._certfile, self._context = keyfile, certfile, context
        super().__init__(host, port, local_hostname, timeout, source_address, **kwargs)

    def starttls(self, *args: Any, **kwargs: Any) -> Tuple[int, bytes]:
        raise SMTPNotSupportedError("STARTTLS on an implicit-TLS (SMTP_SSL) connection")


LMTP = None  # not provided: smtpcore speaks SMTP only
del LMTP
