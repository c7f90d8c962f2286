"""Client (one session, reconnecting when it died) and Pool (many threads, a
few shared connections) over the C core."""
from __future__ import annotations

import email.message
import os
import threading
from typing import IO, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _core
from ._errors import SMTPError, UsageError
from ._message import Message, flatten_email_message
from ._result import SendResult

__all__ = ["Client", "Pool", "build_options"]

Sendable = Union[Message, email.message.Message, bytes, bytearray, memoryview, IO[bytes]]
Recipients = Union[str, Sequence[str]]
RawData = Union[bytes, bytearray, memoryview, IO[bytes]]
# One entry of send_many()/send_raw_many(): the result, or the exception a single send would raise.
Outcome = Union[SendResult, SMTPError]

_SECURITY = ("starttls", "tls", "ssl", "opportunistic", "none")
_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2")


def _ms(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s" % (name, type(value).__name__))
    if not value > 0:
        raise UsageError("%s must be positive (seconds)" % name)
    return max(1, int(round(value * 1000)))


def _opt_str(value: Any, name: str, path: bool = False) -> Optional[str]:
    if value is None:
        return None
    if path and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError("%s must be a str%s, not %s" % (name, " or PathLike" if path else "", type(value).__name__))
    return value


def build_options(host: Optional[str] = None, port: Optional[int] = None, *, security: Optional[str] = None,
                  username: Optional[str] = None, password: Optional[str] = None,
                  oauth2_token: Optional[str] = None, preset: Optional[str] = None, region: Optional[str] = None,
                  auth_mechanism: Optional[str] = None, timeout: Optional[float] = 60.0,
                  connect_timeout: Optional[float] = 30.0, ca_file: Any = None, ca_dir: Any = None,
                  client_cert: Any = None, client_key: Any = None, ehlo_name: Optional[str] = None,
                  verify: bool = True, allow_plaintext_auth: bool = False, all_or_nothing: bool = False,
                  tls_server_name: Optional[str] = None, pipelining: bool = True,
                  chunking: bool = True, pipeline_depth: Optional[int] = None) -> Dict[str, Any]:
    """The C core's configuration keys from Python arguments (checked for types here, for values by
    the core). A preset comes first so that explicit host, port and security override it."""
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise TypeError("port must be an int, not %s" % type(port).__name__)
    if port is not None and not 0 <= port <= 65535:
        raise UsageError("port must be between 0 and 65535")
    if security is not None and (not isinstance(security, str) or security.lower() not in _SECURITY):
        if not isinstance(security, str):
            raise TypeError("security must be a str")
        raise UsageError("security must be one of starttls, tls, opportunistic, none (not %r)" % security)
    if pipeline_depth is not None and (isinstance(pipeline_depth, bool) or not isinstance(pipeline_depth, int)):
        raise TypeError("pipeline_depth must be an int, not %s" % type(pipeline_depth).__name__)
    if auth_mechanism is not None and isinstance(auth_mechanism, str) and auth_mechanism.upper() not in _MECHANISMS:
        raise UsageError("auth_mechanism must be one of %s (not %r)" % (", ".join(_MECHANISMS), auth_mechanism))
    opts: Dict[str, Any] = {}
    opts["preset"] = _opt_str(preset, "preset")
    opts["region"] = _opt_str(region, "region")
    opts["host"] = _opt_str(host, "host")
    opts["port"] = port
    opts["security"] = security.lower() if security else None
    opts["username"] = _opt_str(username, "username")
    opts["password"] = _opt_str(password, "password")
    opts["oauth2_token"] = _opt_str(oauth2_token, "oauth2_token")
    opts["auth_mechanism"] = _opt_str(auth_mechanism, "auth_mechanism")
    opts["timeout"] = _ms(timeout, "timeout")
    opts["connect_timeout"] = _ms(connect_timeout, "connect_timeout")
    opts["ca_file"] = _opt_str(ca_file, "ca_file", path=True)
    opts["ca_dir"] = _opt_str(ca_dir, "ca_dir", path=True)
    opts["client_cert"] = _opt_str(client_cert, "client_cert", path=True)
    opts["client_key"] = _opt_str(client_key, "client_key", path=True)
    opts["ehlo_name"] = _opt_str(ehlo_name, "ehlo_name")
    opts["tls_server_name"] = _opt_str(tls_server_name, "tls_server_name")
    opts["tls_verify"] = bool(verify)
    opts["allow_plaintext_auth"] = bool(allow_plaintext_auth)
    opts["all_or_nothing"] = bool(all_or_nothing)
    opts["pipelining"] = bool(pipelining)
    opts["chunking"] = bool(chunking)
    opts["pipeline_depth"] = pipeline_depth  # the core checks the range (1-64)
    if password is not None and username is None and oauth2_token is None:
        raise UsageError("a password was given without a user name")
    if oauth2_token is not None and username is None:
        raise UsageError("XOAUTH2 needs the user name too")
    if not host and not preset:
        raise UsageError("no host given (host= or preset=)")
    _core.check_options(opts)
    return opts


def _recipient_list(recipients: Any) -> List[str]:
    if isinstance(recipients, str):
        return [recipients]
    if isinstance(recipients, (bytes, bytearray)):
        raise TypeError("recipients must be str or a list of str, not bytes")
    return list(recipients)


class _Payload:
    """A message to send, prepared (and validated) before any connection is made."""

    __slots__ = ("kind", "message", "data", "sender", "recipients", "size_hint", "file_pos")

    def __init__(self, message: Any, sender: Optional[str], recipients: Any, size_hint: Optional[int] = None):
        self.file_pos: Optional[int] = None
        self.size_hint = size_hint or 0
        self.data: Any = None
        self.message: Optional[Message] = None
        if recipients is not None:
            recipients = _recipient_list(recipients)
        if isinstance(message, Message):
            self.kind = "message"
            self.message = message
            self.sender, self.recipients = sender, recipients
            return
        if isinstance(message, email.message.Message):
            data, env_sender, env_rcpts, _ = flatten_email_message(message, sender, recipients)
            self.kind, self.data, self.sender, self.recipients = "raw", data, env_sender, env_rcpts
        elif isinstance(message, (bytes, bytearray, memoryview)):
            self.kind, self.data = "raw", message
            self.sender, self.recipients = sender, recipients
        elif isinstance(message, str):
            raise TypeError("send bytes, a smtpcore.Message or an email.message.Message, not str "
                            "(encode it first)")
        elif hasattr(message, "read"):
            self.kind, self.data = "raw", message
            self.sender, self.recipients = sender, recipients
            try:
                if message.seekable():
                    self.file_pos = message.tell()
            except (AttributeError, OSError, ValueError):
                pass
        else:
            raise TypeError("cannot send %s: use a smtpcore.Message, an email.message.Message, bytes "
                            "or a binary file object" % type(message).__name__)
        if self.sender is None or self.recipients is None:
            raise UsageError("sending raw bytes needs sender= and recipients=")
        _core.check_envelope(self.sender, self.recipients)

    @property
    def restartable(self) -> bool:
        return self.kind == "message" or self.file_pos is not None or not hasattr(self.data, "read")

    def rewind(self) -> None:
        if self.file_pos is not None:
            self.data.seek(self.file_pos)

    def size(self) -> Optional[int]:
        try:
            if self.kind == "message":
                assert self.message is not None
                return self.message.size(eight_bit=True)
            if hasattr(self.data, "read"):
                return self.size_hint or None
            return len(memoryview(self.data).cast("B"))
        except Exception:
            return None


def _nothing_accepted(e: SMTPError) -> bool:
    result = getattr(e, "result", None)
    return result is None or (result.code == 0 and all(r.code == 0 for r in result))


def _batch_outcome(results: List[Any], return_exceptions: bool) -> List[Outcome]:
    """A batch's list, or (return_exceptions=False) its first failure raised with the list on it."""
    if not return_exceptions:
        for i, r in enumerate(results):
            if isinstance(r, SMTPError):
                r.batch_results = results  # type: ignore[attr-defined]
                r.batch_index = i  # type: ignore[attr-defined]
                raise r
    return results


def _messages_only(messages: Iterable[Any]) -> List[Message]:
    """The batch as a list, or TypeError naming the first item that is not a Message."""
    items = list(messages)
    for i, m in enumerate(items):
        if not isinstance(m, Message):
            hint = (" (use send_raw_many() with flatten_email_message())"
                    if isinstance(m, (email.message.Message, bytes, bytearray, memoryview)) else "")
            raise TypeError("send_many() takes smtpcore.Message objects; item %d is %s%s"
                            % (i, type(m).__name__, hint))
    return items


def _decorate(e: SMTPError, payload: _Payload, info: Optional[Dict[str, Any]]) -> None:
    if e.category == "size":
        e.size = payload.size()  # type: ignore[attr-defined]
        e.max_size = (info or {}).get("max_size") or None  # type: ignore[attr-defined]


class Client:
    """An SMTP client for one server, over one session at a time.

    ::

        with smtpcore.Client("smtp.example.com", username="me@example.com", password=pw) as c:
            result = c.send(smtpcore.Message(from_="me@example.com", to="you@example.org",
                                             subject="Hi", text="Hello"))
            print(result.message)          # "2.0.0 Ok: queued as ..."

    The connection is made on the first send (or :meth:`connect`): TCP, greeting, EHLO, STARTTLS
    (``security="starttls"``, the default, requires it; ``"tls"`` is implicit TLS on port 465;
    ``"opportunistic"`` uses it when offered; ``"none"`` never), EHLO again, AUTH with the strongest
    mechanism offered (or ``auth_mechanism``). Certificates and host names are always verified
    unless ``verify=False``. Timeouts are in seconds: ``connect_timeout`` for the TCP connection,
    ``timeout`` for each reply. A session that died between sends is replaced on the next send,
    and a send that failed because the server had dropped an idle connection is retried once.

    :meth:`send_many` sends a list of messages pipelined: with PIPELINING the next message's
    envelope goes out without waiting for the previous message's reply (with CHUNKING up to
    ``pipeline_depth`` messages, 1-64, default 32, are unanswered at once). ``pipelining=False``
    or ``chunking=False`` keep the client from using those extensions even when offered.

    With ``transcript=True`` every protocol line (AUTH redacted, bodies summarised) is kept in
    :attr:`transcript`. The GIL is released during network I/O and message rendering, so threads
    using different clients run in parallel; a client used from several threads serialises them.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, *,
                 security: Optional[str] = None, username: Optional[str] = None,
                 password: Optional[str] = None, oauth2_token: Optional[str] = None,
                 preset: Optional[str] = None, region: Optional[str] = None,
                 auth_mechanism: Optional[str] = None, timeout: float = 60.0, connect_timeout: float = 30.0,
                 ca_file: Any = None, ca_dir: Any = None, client_cert: Any = None, client_key: Any = None,
                 ehlo_name: Optional[str] = None, verify: bool = True, allow_plaintext_auth: bool = False,
                 all_or_nothing: bool = False, transcript: bool = False,
                 tls_server_name: Optional[str] = None, pipelining: bool = True, chunking: bool = True,
                 pipeline_depth: Optional[int] = None) -> None:
        self._options = build_options(
            host, port, security=security, username=username, password=password, oauth2_token=oauth2_token,
            preset=preset, region=region, auth_mechanism=auth_mechanism, timeout=timeout,
            connect_timeout=connect_timeout, ca_file=ca_file, ca_dir=ca_dir, client_cert=client_cert,
            client_key=client_key, ehlo_name=ehlo_name, verify=verify, allow_plaintext_auth=allow_plaintext_auth,
            all_or_nothing=all_or_nothing, tls_server_name=tls_server_name, pipelining=pipelining,
            chunking=chunking, pipeline_depth=pipeline_depth)
        self._keep = bool(transcript)
        self._transcript: List[str] = []
        self._session: Any = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = "connected" if self._session is not None else "not connected"
        return "<smtpcore.Client %s:%s %s>" % (self._options.get("host") or self._options.get("preset"),
                                                self._options.get("port") or "default", state)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---------------------------------------------------------------- session handling

    @property
    def transcript(self) -> List[str]:
        """Protocol lines so far ("C: ...", "S: ...", "*  ..."), secrets redacted; empty unless the
        client was made with transcript=True."""
        with self._lock:
            self._take()
            return list(self._transcript)

    @property
    def info(self) -> Optional[Dict[str, Any]]:
        """What the server said about itself: greeting, ehlo_before_tls and ehlo (lines),
        capabilities, tls, tls_version, tls_cipher, auth_mechanism, max_size. None when not connected."""
        with self._lock:
            return self._session.info() if self._session is not None else None

    @property
    def connected(self) -> bool:
        return self._session is not None

    def _take(self) -> None:
        if self._keep and self._session is not None:
            self._transcript.extend(self._session.take_transcript())

    def _open(self) -> None:
        try:
            self._session = _core.open_session(self._options, keep_transcript=self._keep)
        except SMTPError as e:
            if self._keep and e.transcript:
                self._transcript.extend(e.transcript)
            raise
        self._take()

    def _drop(self) -> None:
        s, self._session = self._session, None
        if s is not None:
            self._take_from(s)
            s.close()

    def _take_from(self, s: Any) -> None:
        if self._keep:
            self._transcript.extend(s.take_transcript())

    def connect(self) -> "Client":
        """Connect, STARTTLS and log in now (otherwise the first send does). Returns self."""
        with self._lock:
            if self._session is None:
                self._open()
        return self

    def close(self) -> None:
        """QUIT and close the connection (a later send opens a new one)."""
        with self._lock:
            self._drop()

    def _call(self, fn: Any) -> Any:
        """Run fn(session) on the open session; forget the session if the error killed it."""
        try:
            return fn(self._session)
        except SMTPError:
            if not self._session.is_open():  # the core gave the session up: the next call opens another
                self._drop()
            raise
        finally:
            self._take()

    # ---------------------------------------------------------------- sending

    def send(self, message: Sendable, *, sender: Optional[str] = None,
             recipients: Optional[Recipients] = None) -> SendResult:
        """Send a :class:`Message`, an ``email.message.Message`` (sent as smtplib.send_message would:
        envelope from its headers, Bcc removed) or raw bytes / a binary file (then ``sender`` and
        ``recipients`` are required).

        Returns a :class:`SendResult` when the server accepted the message for at least one recipient
        (check ``result.refused``). Raises RecipientsRefused (with ``.result``) when none was
        accepted, or another :class:`SMTPError` subclass."""
        return self._send(_Payload(message, sender, recipients))

    def send_raw(self, data: Union[bytes, bytearray, memoryview, IO[bytes]], sender: str,
                 recipients: Recipients, *, size_hint: Optional[int] = None) -> SendResult:
        """Send a message that is already formatted (bytes or a binary file object, read in chunks),
        as it is: line endings are normalised to CRLF and leading dots escaped on the wire."""
        if not isinstance(data, (bytes, bytearray, memoryview)) and not hasattr(data, "read"):
            raise TypeError("send_raw() needs bytes or a binary file object")
        return self._send(_Payload(data, sender, recipients, size_hint))

    def _send(self, p: _Payload) -> SendResult:
        with self._lock:
            for attempt in (0, 1):
                fresh = self._session is None
                if fresh:
                    self._open()
                try:
                    if p.kind == "message":
                        assert p.message is not None
                        res = self._call(lambda s: s.send_message(p.message._m, p.sender, p.recipients))
                    else:
                        res = self._call(lambda s: s.send(p.sender, p.recipients, p.data,
                                                          size_hint=p.size_hint))
                except SMTPError as e:
                    if (attempt == 0 and not fresh and self._session is None and e.category == "connect"
                            and _nothing_accepted(e) and p.restartable):
                        p.rewind()
                        continue  # the server had dropped the idle connection: once more, afresh
                    _decorate(e, p, self._session.info() if self._session is not None else None)
                    raise
                return SendResult._from_core(res)
        raise AssertionError("unreachable")

    def send_many(self, messages: Iterable[Message], *, return_exceptions: bool = True) -> List[Outcome]:
        """Send several :class:`Message` objects over the connection, in order, pipelined when the
        server offers PIPELINING (one round trip per message instead of several; with CHUNKING up to
        ``pipeline_depth`` messages in flight). Each message is rendered only when its turn comes.

        Returns a list with one entry per message, in order: its :class:`SendResult`, or the
        exception a single :meth:`send` of it would have raised (same class and attributes), as
        ``asyncio.gather(..., return_exceptions=True)`` does. One message failing does not stop the
        others. If the connection is lost, the messages not yet accepted fail with
        :class:`ConnectError` and none of them counts as sent; if it cannot be opened at all, every
        entry is that one exception. Failures of one batch share its transcript (``e.transcript``).

        With ``return_exceptions=False`` the whole batch is still attempted; then the first failure
        is raised, with ``batch_results`` (the list above) and ``batch_index`` set on it, so that
        what was sent is never lost. Wrong argument types raise TypeError before anything is sent.
        For ``email.message.Message`` objects or raw bytes use :meth:`send_raw_many`."""
        items = _messages_only(messages)
        return self._send_many([_Payload(m, None, None) for m in items], return_exceptions)

    def send_raw_many(self, items: Iterable[Tuple[RawData, str, Recipients]], *,
                      return_exceptions: bool = True) -> List[Outcome]:
        """:meth:`send_many` for already formatted messages: ``items`` are ``(data, sender,
        recipients)`` tuples as :meth:`send_raw` takes them (bytes or a binary file object, read
        one at a time when its turn comes). An invalid envelope is that item's UsageError; the
        others are still sent. For an ``email.message.Message``:
        ``flatten_email_message(msg)[:3]`` gives such a tuple."""
        entries: List[Any] = []
        for i, item in enumerate(items):
            try:
                data, sender, recipients = item
            except (TypeError, ValueError):
                raise TypeError("send_raw_many() takes (data, sender, recipients) tuples; item %d is %s"
                                % (i, type(item).__name__)) from None
            if not isinstance(data, (bytes, bytearray, memoryview)) and not hasattr(data, "read"):
                raise TypeError("send_raw_many(): item %d: the data must be bytes or a binary file object, not %s"
                                % (i, type(data).__name__))
            try:
                entries.append(_Payload(data, sender, recipients))
            except UsageError as e:
                entries.append(e)
        return self._send_many(entries, return_exceptions)

    def _send_many(self, entries: List[Any], return_exceptions: bool) -> List[Outcome]:
        """Send the payloads among entries as one batch; exceptions already there stay in place."""
        results: List[Any] = list(entries)
        todo = [i for i, p in enumerate(entries) if isinstance(p, _Payload)]
        if todo:
            with self._lock:
                outcomes = self._send_batch([entries[i] for i in todo])
            for i, out in zip(todo, outcomes):
                results[i] = out
        return _batch_outcome(results, return_exceptions)

    def _send_batch(self, batch: List[_Payload]) -> List[Outcome]:
        """One batch over the session, with the lock held; reconnects as :meth:`send` does."""
        for attempt in (0, 1):
            fresh = self._session is None
            if fresh:
                try:
                    self._open()
                except SMTPError as e:
                    return [e] * len(batch)
            if batch[0].kind == "message":
                outs = self._call(lambda s: s.send_messages([p.message._m for p in batch]))  # type: ignore
            else:
                outs = self._call(lambda s: s.send_batch([(p.sender, p.recipients, p.data, p.size_hint)
                                                          for p in batch]))
            if self._session is not None and not self._session.is_open():
                self._drop()  # the connection was lost: the next send opens another
            results = [out if isinstance(out, SMTPError) else SendResult._from_core(out) for out in outs]
            failed = [r for r in results if isinstance(r, SMTPError)]
            if (attempt == 0 and not fresh and self._session is None and len(failed) == len(results)
                    and failed[0].category == "connect" and all(_nothing_accepted(e) for e in failed)
                    and all(p.restartable for p in batch)):
                for p in batch:
                    p.rewind()
                continue  # the server had dropped the idle connection: once more, afresh
            info = self._session.info() if self._session is not None else None
            for p, r in zip(batch, results):
                if isinstance(r, SMTPError):
                    _decorate(r, p, info)
            return results
        raise AssertionError("unreachable")

    def noop(self) -> Tuple[int, str]:
        """NOOP (connecting first if needed); returns (code, text)."""
        with self._lock:
            if self._session is None:
                self._open()
            code, text = self._call(lambda s: s.noop())
            return code, text.decode("utf-8", "replace")

    def rset(self) -> Tuple[int, str]:
        """RSET; returns (code, text)."""
        with self._lock:
            if self._session is None:
                self._open()
            code, text = self._call(lambda s: s.rset())
            return code, text.decode("utf-8", "replace")


class Pool:
    """A thread-safe pool of connections to one server (the C core's smtpcore_pool).

    Many threads call :meth:`send` at once; up to ``size`` connections are opened as needed and each
    is reused for up to ``max_messages_per_connection`` messages; idle connections older than
    ``idle_timeout`` seconds are closed. The GIL is released for the whole send (including the wait
    for a free connection), so threads really run in parallel. Other arguments are as for
    :class:`Client`.

    ::

        with smtpcore.Pool("smtp.example.com", username=u, password=pw, size=4) as pool:
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                results = list(ex.map(pool.send, messages))
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, *, size: int = 4,
                 max_messages_per_connection: int = 100, idle_timeout: float = 30.0, **options: Any) -> None:
        if "transcript" in options:
            raise UsageError("Pool does not keep transcripts (use Client(transcript=True))")
        for name, value in (("size", size), ("max_messages_per_connection", max_messages_per_connection)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("%s must be an int" % name)
            if value < 1:
                raise UsageError("%s must be at least 1" % name)
        idle_ms = _ms(idle_timeout, "idle_timeout") or 30000
        self._options = build_options(host, port, **options)
        self._pool = _core.Pool(self._options, size, max_messages_per_connection, idle_ms)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def connections(self) -> int:
        """Connections open right now."""
        return self._pool.connections()

    def send(self, message: Sendable, *, sender: Optional[str] = None,
             recipients: Optional[Recipients] = None) -> SendResult:
        """Like :meth:`Client.send`; safe to call from many threads at once."""
        return self._send(_Payload(message, sender, recipients))

    def send_raw(self, data: Union[bytes, bytearray, memoryview, IO[bytes]], sender: str,
                 recipients: Recipients, *, size_hint: Optional[int] = None) -> SendResult:
        """Like :meth:`Client.send_raw`."""
        if not isinstance(data, (bytes, bytearray, memoryview)) and not hasattr(data, "read"):
            raise TypeError("send_raw() needs bytes or a binary file object")
        return self._send(_Payload(data, sender, recipients, size_hint))

    def _send(self, p: _Payload) -> SendResult:
        try:
            if p.kind == "message" and p.sender is None and p.recipients is None:
                assert p.message is not None
                res = self._pool.send_message(p.message._m)
            elif p.kind == "message":
                # An envelope of the caller's: render here (7-bit safe, no server capabilities known).
                assert p.message is not None
                env_sender, env_rcpts = p.message.envelope()
                res = self._pool.send(env_sender if p.sender is None else p.sender,
                                      env_rcpts if p.recipients is None else p.recipients,
                                      p.message.as_bytes())
            else:
                assert p.sender is not None and p.recipients is not None
                res = self._pool.send(p.sender, p.recipients, p.data, size_hint=p.size_hint)
        except SMTPError as e:
            _decorate(e, p, None)
            raise
        return SendResult._from_core(res)

    def send_many(self, messages: Iterable[Message], *, return_exceptions: bool = True) -> List[Outcome]:
        """Like :meth:`Client.send_many`, on one of the pool's connections (the whole batch on that
        connection, pipelined); safe to call from many threads at once. A connection the server
        closed while idle is replaced and the batch sent again once, when nothing of it had been
        accepted. The pool keeps no transcript, so the exceptions carry none."""
        items = _messages_only(messages)
        if not items:
            return []
        outs = self._pool.send_messages([m._m for m in items])
        results = [out if isinstance(out, SMTPError) else SendResult._from_core(out) for out in outs]
        for m, r in zip(items, results):
            if isinstance(r, SMTPError):
                _decorate(r, _Payload(m, None, None), None)
        return _batch_outcome(results, return_exceptions)

    def close(self) -> None:
        """QUIT and close every connection (sends still running finish first)."""
        self._pool.close()
